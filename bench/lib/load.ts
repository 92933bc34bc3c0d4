import { orders, PLACE_ORDERS, type BenchOrder } from './orders.ts'
import { graphqlClient } from './http.ts'
import { now } from './stats.ts'

/**
 * Accepts `total` orders as `placeOrders` bulks of `bulkSize`, `concurrency` requests at a time,
 * spread round-robin over `endpoints`. Bodies are built before the clock starts.
 * Returns the bulk uuids and the elapsed milliseconds.
 */
export async function acceptBulks (endpoints: readonly string[], token: string, total: number, bulkSize: number, concurrency: number,
  from = 0): Promise<{ uuids: string[], ms: number }> {
  const clients = endpoints.map(endpoint => graphqlClient(endpoint, token))
  const inputs: BenchOrder[][] = []
  for (let done = 0; done < total; done += bulkSize) inputs.push(orders(Math.min(bulkSize, total - done), from + done))
  const uuids: string[] = []
  let next = 0
  const start = now()
  await Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
    const client = clients[lane % clients.length]!
    for (let i = next++; i < inputs.length; i = next++) {
      const data = await client.request<{ placeOrders: { bulkUuid: string, errors: boolean } }>(PLACE_ORDERS, { input: inputs[i] })
      if (data.placeOrders.errors) throw new Error('the bench orders were rejected')
      uuids.push(data.placeOrders.bulkUuid)
    }
  }))
  return { uuids, ms: now() - start }
}
