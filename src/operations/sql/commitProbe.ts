import type { Query } from '../../platform/db/pool.ts'

/**
 * Inserts a bulk of this uuid unless one is there, answering a row when it was not. Run in a
 * transaction that is rolled back (src/operations/commitOutcome.ts): a transaction that wrote the
 * uuid and has not ended yet makes this statement wait for its end (the primary key's uniqueness
 * check), so the answer is final. The other columns only satisfy the table's constraints.
 */
export function probeBulkUuid (uuid: string): Query {
  return {
    text: `INSERT INTO bulk (uuid, owner, operation_count, kind) VALUES ($1, '', 0, 'placement')
      ON CONFLICT (uuid) DO NOTHING RETURNING uuid`,
    values: [uuid]
  }
}
