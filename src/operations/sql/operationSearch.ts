import type { Query } from '../../platform/db/pool.ts'

/**
 * The fields operations can be searched on (Magento's `GET /V1/bulk?searchCriteria`), each with
 * its column and the type its values are cast to. Identifiers come only from here.
 */
export const SEARCH_FIELD = Object.freeze({
  bulk_uuid: { column: 'o.bulk_uuid', type: 'uuid' },
  status: { column: 'o.status', type: 'text' },
  topic: { column: 'o.topic', type: 'text' },
  /** The bulk's acceptance time (Magento's bulk start_time). */
  bulk_created_at: { column: 'b.created_at', type: 'timestamptz' }
} as const)
export type SearchField = keyof typeof SEARCH_FIELD

/** Comparisons, with the SQL each becomes; `in` and `nin` take a list. */
export const SEARCH_OPERATOR = Object.freeze({
  eq: '=',
  neq: '<>',
  gt: '>',
  gteq: '>=',
  lt: '<',
  lteq: '<=',
  in: '= ANY',
  nin: '<> ALL'
} as const)
export type SearchOperator = keyof typeof SEARCH_OPERATOR

export interface SearchCondition {
  readonly field: SearchField
  readonly operator: SearchOperator
  /** A list for `in` and `nin`, one value otherwise; already checked to fit the field's type. */
  readonly value: string | readonly string[]
}

export interface OperationSearch {
  /** Only bulks of this owner (null: any owner's, for admins). */
  readonly owner: string | null
  /** Every group must hold; in a group, any condition (Magento's filter_groups). */
  readonly groups: ReadonlyArray<readonly SearchCondition[]>
  /** In acceptance order (operation.seq), or newest first. */
  readonly descending: boolean
  readonly limit: number
  readonly offset: number
}

/** An operation as a search returns it, with its bulk's acceptance time. */
export interface SearchedOperationRow {
  seq: number
  id: string
  bulk_uuid: string
  request_index: number
  topic: string
  status: string
  data: unknown
  result: unknown
  error_code: string | null
  result_message: string | null
  bulk_created_at: Date
}

/** The WHERE clause of a search, its values after `first - 1` others. */
function where (search: OperationSearch, first: number): { text: string, values: unknown[] } {
  const values: unknown[] = [search.owner]
  const clauses = [`($${first}::text IS NULL OR b.owner = $${first})`]
  for (const group of search.groups) {
    const any = group.map(condition => {
      const { column, type } = SEARCH_FIELD[condition.field]
      values.push(condition.value)
      const placeholder = `$${first + values.length - 1}`
      const list = condition.operator === 'in' || condition.operator === 'nin'
      return list
        ? `${column} ${SEARCH_OPERATOR[condition.operator]}(${placeholder}::${type}[])`
        : `${column} ${SEARCH_OPERATOR[condition.operator]} ${placeholder}::${type}`
    })
    if (any.length > 0) clauses.push(`(${any.join(' OR ')})`)
  }
  return { text: clauses.join(' AND '), values }
}

/** One page of the operations of `owner`'s bulks that match, in acceptance order (or newest first). */
export function selectOperationSearchPage (search: OperationSearch): Query {
  const filter = where(search, 3)
  return {
    text: `SELECT o.seq, o.id, o.bulk_uuid, o.request_index, o.topic, o.status, o.data, o.result, o.error_code, o.result_message,
             b.created_at AS bulk_created_at
      FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid
      WHERE ${filter.text}
      ORDER BY o.seq ${search.descending ? 'DESC' : 'ASC'}
      LIMIT $1 OFFSET $2`,
    values: [search.limit, search.offset, ...filter.values]
  }
}

/** How many operations of `owner`'s bulks match, whatever the page. */
export function countOperationSearch (search: OperationSearch): Query {
  const filter = where(search, 1)
  return {
    text: `SELECT count(*)::int AS total FROM operation o JOIN bulk b ON b.uuid = o.bulk_uuid WHERE ${filter.text}`,
    values: filter.values
  }
}
