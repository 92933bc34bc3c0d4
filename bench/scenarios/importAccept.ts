import { startGateway } from '../lib/gateway.ts'
import { graphqlClient } from '../lib/http.ts'
import { acceptBulks } from '../lib/load.ts'
import { orders } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median } from '../lib/stats.ts'

const BULK = 1000
const IMPORT = 'mutation ($input: [PlaceOrderInput!]!) { placeOrders(input: $input, mode: IMPORT) { bulkUuid errors } }'

/** Imports `total` historical orders (numbers `<run>-<i>`) in bulks of BULK, one request at a time: the milliseconds it took. */
async function importBulks (endpoint: string, token: string, total: number, run: string): Promise<number> {
  const client = graphqlClient(endpoint, token)
  const start = performance.now()
  for (let done = 0; done < total; done += BULK) {
    const input = orders(Math.min(BULK, total - done), done).map((order, i) => ({ ...order, orderNumber: `${run}-${done + i}`, placedAt: '2019-05-17T10:00:00Z' }))
    const data = await client.request<{ placeOrders: { errors: boolean } }>(IMPORT, { input })
    if (data.placeOrders.errors) throw new Error('the bench imports were rejected')
  }
  return performance.now() - start
}

/**
 * `placeOrders(mode: IMPORT)` against `placeOrders` of as many orders on the same gateway, alternately
 * in each repeat: what an import's checks cost at acceptance (its number's lookup per item).
 */
export const importAccept: Scenario = {
  name: 'import-accept',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { bulkOrders: total, repeats } = context.settings
    const gateway = await startGateway({ databaseUrl: await context.createDatabase(), token: context.token, role: 'gateway' })
    const importRate: number[] = []
    const placeRate: number[] = []
    try {
      await importBulks(gateway.endpoint!, context.token, Math.min(total, 5000), 'warm') // warm-up
      await acceptBulks([gateway.endpoint!], context.token, Math.min(total, 5000), BULK, 1)
      for (let i = 0; i < repeats; i++) {
        importRate.push(total / (await importBulks(gateway.endpoint!, context.token, total, `run${i}`) / 1000))
        placeRate.push(total / ((await acceptBulks([gateway.endpoint!], context.token, total, BULK, 1, (i + 1) * total)).ms / 1000))
      }
    } finally {
      await gateway.stop()
    }
    const ratio = median(importRate) / median(placeRate)
    return [{
      scenario: `import accept (${total.toLocaleString('en')} orders, 1,000 a bulk)`,
      figure: `${Math.round(median(importRate))} orders/s`,
      baseline: `placeOrders: ${Math.round(median(placeRate))} orders/s`,
      ratio,
      target: 'none: compared',
      pass: null,
      runs: { importRate, placeRate }
    }]
  }
}
