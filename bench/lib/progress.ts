import pg from 'pg'

/**
 * Waits until no operation of `uuids` is OPEN, then returns the processing time from the database's
 * own clock: the first operation started to the last one finished. Independent of how long the
 * worker process took to start.
 */
export async function waitProcessed (url: string, uuids: readonly string[], timeoutMs = 600_000): Promise<{ ms: number, operations: number }> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const { rows } = await client.query<{ open: string }>(
        'SELECT count(*) AS open FROM operation WHERE bulk_uuid = ANY($1::uuid[]) AND status IN (\'OPEN\', \'RETRIABLY_FAILED\')', [uuids])
      if (Number(rows[0]!.open) === 0) break
      if (Date.now() > deadline) throw new Error(`${rows[0]!.open} operations still open after ${timeoutMs / 1000} s`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    const { rows } = await client.query<{ ms: number, operations: string }>(
      `SELECT extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS ms, count(*) AS operations
       FROM operation WHERE bulk_uuid = ANY($1::uuid[]) AND status = 'COMPLETE'`, [uuids])
    return { ms: Number(rows[0]!.ms), operations: Number(rows[0]!.operations) }
  } finally {
    await client.end()
  }
}
