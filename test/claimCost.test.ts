import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from './helpers/gateway.ts'
import { claimOperations } from '../src/operations/sql/bulks.ts'

// The claim's look-up of earlier unfinished operations on the same key (claimOperations) reads the
// key's unfinished operations only (operation_ordering_idx, migrations 0010 and 0031), not every
// operation ever accepted on it: orders have a handful, but a stock adjustment's key is its SKU (sku:…).
let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway({ roles: ['gateway'] }) })
afterAll(async () => { await gateway?.stop() })

async function claimCost (operationId: string, jobId: string): Promise<{ ms: number, buffers: number, claimed: number }> {
  const query = claimOperations([{ operationId, jobId }])
  const client = await gateway.sql.connect()
  try {
    await client.query('BEGIN')
    const { rows } = await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${query.text}`, values: [...query.values] })
    await client.query('ROLLBACK')
    const plan = rows[0]['QUERY PLAN'][0]
    const buffers = (plan.Plan['Shared Hit Blocks'] ?? 0) + (plan.Plan['Shared Read Blocks'] ?? 0)
    return { ms: plan['Execution Time'], buffers, claimed: plan.Plan['Actual Rows'] }
  } finally {
    client.release()
  }
}

describe('the claim on a key with a long history', () => {
  it('reads what the key\'s unfinished operations take, not its history', async () => {
    const history = randomUUID()
    const current = randomUUID()
    await gateway.sql.query('INSERT INTO bulk (uuid, owner, operation_count, kind) VALUES ($1, \'o\', 50000, \'placement\'), ($2, \'o\', 1, \'placement\')', [history, current])
    // 50,000 finished adjustments of one SKU (two months of a busy SKU), then one to run.
    await gateway.sql.query(`INSERT INTO operation (id, bulk_uuid, request_index, topic, status, data, data_hash, ordering_key, finished_at)
      SELECT gen_random_uuid(), $1, i, 'inventory.adjust', 'COMPLETE', '{}', 'h', 'sku:HOT', now() FROM generate_series(0, 49999) i`, [history])
    const op = randomUUID()
    const job = randomUUID()
    await gateway.sql.query(`INSERT INTO operation (id, job_id, bulk_uuid, request_index, topic, status, data, data_hash, ordering_key)
      VALUES ($1, $2, $3, 0, 'inventory.adjust', 'OPEN', '{}', 'h', 'sku:HOT')`, [op, job, current])
    await gateway.sql.query('VACUUM ANALYZE operation')

    const claim = await claimCost(op, job)
    expect(claim.claimed).toBe(1)
    // Through the partial index: a handful of pages. Through the key's whole history: about a thousand.
    expect(claim.buffers).toBeLessThan(50)
  }, 60_000)
})
