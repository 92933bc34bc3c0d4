import type { Query } from '../../platform/db/pool.ts'

/**
 * Bulks with an operation still OPEN or RETRIABLY_FAILED, summed over their progress shards. Reads
 * the whole bulk_progress table (at most 16 rows a bulk; retention bounds the bulks): once a scrape.
 */
export function countUnfinishedBulks (): Query {
  return {
    text: `SELECT count(*)::int AS n FROM (
      SELECT 1 FROM bulk_progress GROUP BY bulk_uuid HAVING sum(open + retriably_failed) > 0) unfinished`,
    values: []
  }
}
