import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, PLACE_ORDER, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { killAll, lines, spawnNode } from './helpers/processes.ts'

/** The command-line client (package bin `order-ops`) against a live gateway, as a user runs it. */
let gateway: TestGateway
let dir: string

beforeAll(async () => {
  gateway = await startGateway()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-cli-'))
})
afterAll(async () => {
  await killAll()
  await gateway.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

async function cli (args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null, stdout: string[], stderr: string }> {
  const child = spawnNode(['src/cli/client.ts', ...args], { GATEWAY_URL: gateway.httpUrl, GATEWAY_TOKEN: gateway.adminToken, ...env })
  const { code } = await child.exited
  return { code, stdout: lines(child.stdout()), stderr: child.stderr() }
}

function jsonl (name: string, rows: readonly string[]): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, rows.join('\n') + '\n')
  return file
}

describe('order-ops submit', () => {
  it('streams a JSONL file as one bulk, shows its progress, prints the summary and exits 0 when every order completed', async () => {
    const file = jsonl('good.jsonl', [JSON.stringify(order()), JSON.stringify(order()), JSON.stringify(order())])
    const run = await cli(['submit', file, '--description', 'from the cli'])
    expect(run.code).toBe(0)
    expect(run.stderr).toMatch(/bulk [0-9a-f-]{36} accepted/)
    expect(run.stderr).toMatch(/100% \| 3\/3 \| 3 complete/)
    expect(run.stdout[0]).toMatch(/^bulk [0-9a-f-]{36} \(from the cli\): FINISHED_SUCCESSFULLY$/)
    expect(run.stdout[1]).toBe('  3 operation(s): 3 complete')
    expect(run.stdout[2]).toMatch(/^ {2}results: http:\/\/.+\/bulks\/[0-9a-f-]{36}\/results\.jsonl$/)
  })

  it('exits 1 when the bulk finished with failures, and --json prints one state a line ending on the final one', async () => {
    const file = jsonl('mixed.jsonl', [JSON.stringify(order()), '{ not json', JSON.stringify(order({ currency: 'nope' }))])
    const run = await cli(['--json', 'submit', file])
    expect(run.code).toBe(1)
    const states = run.stdout.map(line => JSON.parse(line))
    expect(states.at(-1)).toMatchObject({ status: 'FINISHED_WITH_FAILURE', operationCount: 3, counts: { complete: 1, rejected: 2 } })
    const { data } = await gateway.gql('query ($uuid: ID!) { bulk(uuid: $uuid) { operations(first: 3) { edges { node { status } } } } }', { uuid: states.at(-1).uuid })
    expect(data.bulk.operations.edges.map((edge: any) => edge.node.status)).toEqual(['COMPLETE', 'REJECTED', 'REJECTED'])
  })

  it('--no-wait prints the bulk uuid alone', async () => {
    const run = await cli(['submit', jsonl('one.jsonl', [JSON.stringify(order())]), '--no-wait'])
    expect(run.code).toBe(0)
    expect(run.stdout).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)])
    await waitForBulk(gateway, run.stdout[0]!)
  })
})

describe('order-ops place and order', () => {
  it('places one order from flags and follows it through the chain step by step to COMPLETED', async () => {
    const run = await cli(['place', '--email', 'cli@example.com', '--item', 'DEMO-0001:2:19.99', '--name', 'Ada Lovelace', '--street', 'Main Street 1',
      '--city', 'Berlin', '--postcode', '10115', '--country', 'DE', '--wait'], {})
    expect(run.code).toBe(0)
    expect(run.stdout[0]).toMatch(/^order ORD-\d{8,} accepted \(bulk [0-9a-f-]{36}\)$/)
    const steps = run.stdout.slice(1, -1).map(line => line.trim().split(/\s+/))
    expect(steps.map(([name, status]) => [name, status])).toEqual(expect.arrayContaining([['capturePayment', 'DONE'], ['exportToErp', 'DONE']]))
    expect(run.stdout.at(-1)).toMatch(/^order ORD-\d{8,}: COMPLETED \(39\.98\d* EUR\)$/)
  })

  it('follows an order already placed with `order <number>`, and answers an order that is not there with exit 3', async () => {
    const { data } = await gateway.gql('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { requestItems { orderNumber } } }', { input: order() })
    const number = data.placeOrder.requestItems[0].orderNumber
    const run = await cli(['--json', 'order', number])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout.at(-1)!)).toMatchObject({ number, status: 'COMPLETED' })
    const missing = await cli(['order', 'ORD-99999999'])
    expect(missing.code).toBe(3)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('says which field is wrong when the gateway rejects the order, with exit 3', async () => {
    const run = await cli(['place', '--input', JSON.stringify(order({ currency: 'nope' }))])
    expect(run.code).toBe(3)
    expect(run.stderr).toMatch(/^order-ops: rejected: .*currency/)
  })
})

describe('order-ops status, cancel, ack, retry', () => {
  it('prints a bulk\'s status, acknowledges it, and retries nothing on a bulk without failures', async () => {
    const { data } = await gateway.gql(PLACE_ORDER, { input: order() })
    const uuid = data.placeOrder.bulkUuid
    await waitForBulk(gateway, uuid)
    const status = await cli(['--json', 'status', uuid])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout[0]!)).toMatchObject({ uuid, status: 'FINISHED_SUCCESSFULLY', counts: { complete: 1 } })
    const ack = await cli(['ack', uuid])
    expect(ack.code).toBe(0)
    const { data: after } = await gateway.gql('query ($uuid: ID!) { bulk(uuid: $uuid) { acknowledged } }', { uuid })
    expect(after.bulk.acknowledged).toBe(true)
    const retry = await cli(['retry', uuid, '--no-wait'])
    expect(retry.code).toBe(0)
    expect(retry.stdout[0]).toContain('FINISHED_SUCCESSFULLY')
  })

  it('cancels what has not begun of a bulk', async () => {
    const file = jsonl('cancel.jsonl', Array.from({ length: 3 }, () => JSON.stringify(order())))
    const submitted = await cli(['submit', file, '--no-wait'])
    const run = await cli(['--json', 'cancel', submitted.stdout[0]!])
    expect(run.code).toBe(0)
    const bulk = JSON.parse(run.stdout[0]!)
    // Whatever the workers had taken finishes; the rest is CANCELED.
    expect(bulk.counts.complete + bulk.counts.canceled + bulk.counts.open).toBe(3)
  })
})

describe('order-ops errors', () => {
  it('exits 2 with one line without a token, and 3 with one line when the gateway refuses or cannot be reached', async () => {
    const noToken = await cli(['status', '00000000-0000-0000-0000-000000000000'], { GATEWAY_TOKEN: '' })
    expect(noToken.code).toBe(2)
    expect(noToken.stderr).toBe('order-ops: no token: pass --token or set GATEWAY_TOKEN\n')
    const badToken = await cli(['status', '00000000-0000-0000-0000-000000000000'], { GATEWAY_TOKEN: 'not-a-token-at-all' })
    expect(badToken.code).toBe(3)
    expect(badToken.stderr).toMatch(/^order-ops: authentication required/)
    const unknown = await cli(['status', '00000000-0000-0000-0000-000000000000'])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toBe('order-ops: no bulk 00000000-0000-0000-0000-000000000000\n')
    const nowhere = await cli(['status', '00000000-0000-0000-0000-000000000000'], { GATEWAY_URL: 'http://127.0.0.1:9/graphql' })
    expect(nowhere.code).toBe(3)
    expect(nowhere.stderr).toMatch(/^order-ops: cannot reach the gateway at http:\/\/127\.0\.0\.1:9\/graphql/)
    const usage = await cli(['submit'])
    expect(usage.code).toBe(2)
  })
})
