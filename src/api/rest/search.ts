import qs from 'qs'
import { viewerOf } from '../../access/principal.ts'
import type { SearchCondition, SearchField, SearchOperator } from '../../operations/sql/operationSearch.ts'
import { detailedOperation, UUID } from './bulkStatus.ts'
import { REST_STATUS, RestError, sendJson } from './errors.ts'
import { operationStatusOf } from './magento.ts'
import { describeIssues, issueMessage } from './orderEntity.ts'
import type { RestCall } from './route.ts'
import { SearchCriteriaSchema, type OperationSearchResults, type SearchCriteria } from './schemas.ts'

/** Operations one search answers at most; Magento has no bound, so a request without pageSize gets this many. */
export const MAX_PAGE_SIZE = 1000

/** Magento's time (`2018-07-12 16:07:53`, UTC) or ISO 8601. */
const TIME = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/

const ALL_OPERATORS: readonly SearchOperator[] = ['eq', 'neq', 'in', 'nin', 'gt', 'gteq', 'lt', 'lteq']
const EQUALITY: readonly SearchOperator[] = ['eq', 'neq', 'in', 'nin']

/** The fields Magento's operation search filters on: the column each is, the comparisons it takes, and how a value is read. */
const FIELDS: Readonly<Record<string, { field: SearchField, operators: readonly SearchOperator[], value: (given: string) => string | undefined }>> = {
  bulk_uuid: { field: 'bulk_uuid', operators: EQUALITY, value: (given) => UUID.test(given) ? given : undefined },
  status: { field: 'status', operators: EQUALITY, value: (given) => /^\d$/.test(given) ? operationStatusOf(Number(given)) : undefined },
  topic_name: { field: 'topic', operators: EQUALITY, value: (given) => given },
  start_time: {
    field: 'bulk_created_at',
    operators: ALL_OPERATORS,
    value: (given) => {
      if (!TIME.test(given)) return undefined
      // Magento's times carry no zone and are UTC.
      const time = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(given) || given.length <= 10 ? given : given.replace(' ', 'T') + 'Z')
      return Number.isNaN(time.getTime()) ? undefined : time.toISOString()
    }
  }
}

const SORT_FIELDS = new Set(['id', 'start_time'])

function refuse (message: string, parameters: Record<string, string>): RestError {
  return new RestError(REST_STATUS.BAD_REQUEST, message, parameters)
}

/** `pageSize` → `page_size`: Magento reads both spellings of searchCriteria's keys. */
function snakeKeys (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys)
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key.replace(/[A-Z]/g, letter => `_${letter.toLowerCase()}`), snakeKeys(inner)]))
}

/** The searchCriteria of a query string, checked against the schema (400 naming the parameter otherwise). */
export function parseSearchCriteria (query: string): SearchCriteria {
  const parsed = qs.parse(query, { depth: 6, arrayLimit: 100, parameterLimit: 1000 })
  const criteria = snakeKeys(parsed.searchCriteria ?? {})
  const checked = SearchCriteriaSchema.safeParse(criteria, { error: issueMessage })
  if (!checked.success) throw new RestError(REST_STATUS.BAD_REQUEST, describeIssues(checked.error, 'searchCriteria', true))
  return checked.data
}

function conditionOf (filter: { field: string, value: string, condition_type?: string | undefined }, at: string): SearchCondition {
  const known = FIELDS[filter.field]
  if (known === undefined) {
    throw refuse(`${at}[field] must be one of ${Object.keys(FIELDS).join(', ')}, got "%field"`, { field: filter.field.slice(0, 40) })
  }
  const operator = (filter.condition_type ?? 'eq') as SearchOperator
  if (!known.operators.includes(operator)) {
    throw refuse(`${at}[condition_type] must be one of ${known.operators.join(', ')} for ${filter.field}, got "%condition"`, { condition: operator.slice(0, 40) })
  }
  const list = operator === 'in' || operator === 'nin'
  const values = (list ? filter.value.split(',') : [filter.value]).map(value => value.trim())
  const read = values.map(known.value)
  const bad = read.findIndex(value => value === undefined)
  if (bad >= 0) throw refuse(`${at}[value] is not a valid ${filter.field}: "%value"`, { value: values[bad]!.slice(0, 40) })
  return { field: known.field, operator, value: list ? read as string[] : read[0]! }
}

/**
 * `GET /V1/bulk?searchCriteria…`: Magento's operation search, over the caller's bulks only (an
 * admin's: everyone's), in acceptance order, with the total that match.
 */
export async function searchHandler (call: RestCall): Promise<void> {
  const criteria = parseSearchCriteria(call.query)
  const groups = (criteria.filter_groups ?? []).map((group, g) =>
    group.filters.map((filter, f) => conditionOf(filter, `searchCriteria[filter_groups][${g}][filters][${f}]`)))
  const sort = criteria.sort_orders?.[0]
  if (sort !== undefined && !SORT_FIELDS.has(sort.field)) {
    throw refuse('searchCriteria[sort_orders][0][field] must be id or start_time (both are acceptance order), got "%field"', { field: sort.field.slice(0, 40) })
  }
  const pageSize = criteria.page_size ?? MAX_PAGE_SIZE
  const { total, operations } = await call.services.searchOperations(viewerOf(call.principal), {
    groups,
    descending: sort?.direction === 'DESC',
    limit: pageSize,
    offset: ((criteria.current_page ?? 1) - 1) * pageSize
  })
  const answer: OperationSearchResults = {
    items: operations.map(row => detailedOperation(row, row.bulk_created_at)),
    search_criteria: criteria,
    total_count: total
  }
  sendJson(call.res, 200, answer)
}
