import type { Query } from '../db/pool.ts'

/** ANALYZE of one table; `table` must be a checked identifier (ANALYZE takes no parameters). */
export function analyzeTable (table: string): Query {
  if (!/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a table name: ${table}`)
  return { text: `ANALYZE ${table}`, values: [] }
}

/** The planner's row estimate of the largest of `tables` (reltuples, as the last ANALYZE or VACUUM left it). */
export function selectEstimatedRows (tables: readonly string[]): Query {
  return {
    text: `SELECT coalesce(max(greatest(reltuples, 0)), 0)::bigint AS rows
      FROM pg_class WHERE oid IN (SELECT to_regclass(name) FROM unnest($1::text[]) AS name)`,
    values: [tables]
  }
}
