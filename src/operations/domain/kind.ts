/**
 * What a bulk does, stored in `bulk.kind` (migrations/0018, which mirrors these values in a CHECK)
 * and exposed as the GraphQL enum BulkKind. Every operation of a bulk is of its kind.
 */
export const BULK_KIND = Object.freeze({
  /** placeOrder, placeOrders, placeOrdersFromFile. */
  PLACEMENT: 'placement',
  /** cancelOrder, cancelOrders. */
  CANCELLATION: 'cancellation',
  /** adjustStock. */
  ADJUSTMENT: 'adjustment',
  /** retryOrder, retryOrders. */
  RETRY: 'retry',
  /** exportOrders, exportInventory: one operation that writes a JSONL file (migrations/0026). */
  EXPORT: 'export',
  /** placeOrders(mode: IMPORT), placeOrdersFromFile(mode: IMPORT): historical orders (migrations/0027). */
  IMPORT: 'import'
} as const)
export type BulkKind = (typeof BULK_KIND)[keyof typeof BULK_KIND]
