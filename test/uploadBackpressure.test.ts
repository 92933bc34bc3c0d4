import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { order, startGateway, type TestGateway } from './helpers/gateway.ts'
import { pulledUpload } from './helpers/upload.ts'

// Issue 17, item 5: a JSONL upload is read no faster than its lines are checked. The body limit
// counted the upload through the fetch ponyfill's TransformStream, which takes every chunk written
// to it at once: an upload sent faster than it was checked piled up in the gateway's memory whole.

let gateway: TestGateway
beforeAll(async () => {
  gateway = await startGateway({ roles: ['gateway'] })
})
afterAll(async () => { await gateway?.stop() })

async function countRows (): Promise<{ bulks: number, operations: number }> {
  const { rows: [row] } = await gateway.sql.query('SELECT (SELECT count(*) FROM bulk)::int AS bulks, (SELECT count(*) FROM operation)::int AS operations')
  return row
}

describe('an upload arriving faster than it is checked', () => {
  it('is read only as fast as it is checked: the gateway does not take the rest of the file meanwhile', async () => {
    // An import checks its order numbers 1,000 at a time (checkMany), against `orders`: while
    // another transaction holds that table locked, the check waits, and so must the upload's reading.
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify(order({ orderNumber: `BP-${i}`, placedAt: '2019-05-17T10:00:00.000Z' }))).join('\n') + '\n'
    // Then 48 MB of blank lines (skipped, but only once read): more than every buffer on the way can hold.
    const blank = new TextEncoder().encode(' '.repeat(1023) + '\n')
    const filler = new Uint8Array(64 * 1024).map((_, i) => blank[i % blank.length]!)
    const total = 48 * 1024 * 1024
    const locker = new pg.Client({ connectionString: gateway.db.url })
    await locker.connect()
    const before = await countRows()
    let made = 0
    let upload: ReturnType<typeof pulledUpload> | undefined
    try {
      await locker.query('BEGIN')
      await locker.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE')
      upload = pulledUpload(gateway, 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file, mode: IMPORT) { bulkUuid } }', () => {
        if (made === 0) { made = lines.length; return new TextEncoder().encode(lines) }
        if (made >= total) return null
        made += filler.length
        return filler
      })
      // The check waits for the lock…
      for (let waited = 0; ; waited += 100) {
        const { rows } = await gateway.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%unnest%'")
        if (rows[0].n > 0) break
        if (waited > 20_000) throw new Error('the check never waited for the lock')
        await sleep(100)
      }
      // …and the upload stops being read: what was sent stops growing, well short of the whole file.
      let sent = -1
      for (let waited = 0; upload.sent() !== sent && upload.sent() < total && waited < 15_000; waited += 500) {
        sent = upload.sent()
        await sleep(500)
      }
      expect(upload.sent()).toBeLessThan(total / 2)
    } finally {
      upload?.abort()
      await locker.query('ROLLBACK')
      await locker.end()
    }
    // The aborted upload accepted nothing.
    await sleep(500)
    expect(await countRows()).toEqual(before)
  })
})
