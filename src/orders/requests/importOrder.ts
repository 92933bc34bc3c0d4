import type { Candidate, OperationKind } from '../../operations/accept.ts'
import { BULK_KIND } from '../../operations/domain/kind.ts'
import { run } from '../../platform/db/pool.ts'
import type { ImportOptions } from '../domain/events.ts'
import { validateImport, type ImportItem } from '../domain/importOrder.ts'
import { validatePlaceOrder, type PlaceOrderInput } from '../domain/placeOrder.ts'
import { selectOrderNumbersTaken } from '../sql/orders.ts'
import { ORDER_TOPICS } from '../topics.ts'

/**
 * Imports of historical orders (placeOrders(mode: IMPORT)), one kind per request: an item is a
 * PlaceOrderInput with its orderNumber and placedAt, and its number must be free, in the gateway
 * (no order, no placement or import accepted under it: one lookup per chunk of items, checkMany)
 * and in this request (`seen`: items are checked one after another, in request order). The order's number is its ordering key, so
 * operations on it run after its import, as after a placement. It runs on the placements' topic
 * (src/orders/placement.ts tells an import by its importOptions).
 */
export function importOrders (): OperationKind {
  const seen = new Set<string>()
  return {
    topic: ORDER_TOPICS.placeOrder.queue,
    bulkKind: BULK_KIND.IMPORT,
    check: async (data) => {
      const input = data as PlaceOrderInput
      const problem = [validatePlaceOrder(input), validateImport(input, new Date())].find(v => !v.ok)
      if (problem !== undefined && !problem.ok) return problem.message
      const number = input.orderNumber!
      if (seen.has(number)) return `orderNumber ${number} is given twice in this request`
      seen.add(number)
      return null
    },
    checkMany: async (data, db) => {
      const numbers = data.map(item => (item as ImportItem).orderNumber)
      const taken = new Set((await run<{ order_number: string }>(db, selectOrderNumbersTaken(numbers, ORDER_TOPICS.placeOrder.queue))).map(row => row.order_number))
      return numbers.map(number => taken.has(number) ? `orderNumber ${number} is taken: an order with that number exists or was accepted already` : null)
    },
    orderingKey: (data) => (data as ImportItem).orderNumber,
    numberOrder: false
  }
}

/** An item of an import as its operation stores it: with the request's options (a structural problem stays as it is). */
function withOptions (candidate: Candidate, options: ImportOptions): Candidate {
  const plain = candidate.problem === undefined && typeof candidate.data === 'object' && candidate.data !== null && !Array.isArray(candidate.data)
  return plain ? { data: { ...(candidate.data as object), importOptions: options } } : candidate
}

/**
 * The items of an import as its operations store them: each with the request's options, so that
 * the worker that places it knows how (and an idempotent repeat with other options is another
 * request). Items in memory stay an Iterable (acceptance spools only streams to a file).
 */
export function withImportOptions (candidates: Iterable<Candidate> | AsyncIterable<Candidate>, options: ImportOptions): Iterable<Candidate> | AsyncIterable<Candidate> {
  if (Symbol.asyncIterator in candidates) {
    return (async function * () { for await (const candidate of candidates) yield withOptions(candidate, options) })()
  }
  return (function * () { for (const candidate of candidates) yield withOptions(candidate, options) })()
}
