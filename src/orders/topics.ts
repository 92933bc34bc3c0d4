import { operationTopic } from '../operations/topics.ts'

/** The order operations' topics (their processors are bound in src/topics.ts). */
export const ORDER_TOPICS = Object.freeze({
  /**
   * Places the order of one accepted PlaceOrderInput and reserves its stock (src/orders/placement.ts);
   * its result is the order's number, and the rest of the chain follows on the chain's topics.
   * Batches of 500: every batch locks its SKUs' rows, so batches sharing SKUs run one after the
   * other, and a larger batch pays that wait, its statements and its commit for more orders
   * (measured: a 20,000-order drain 1.3× faster than with 100). A single order still goes at once.
   */
  placeOrder: operationTopic('order.place', { batchSize: 500, localConcurrency: 2 }),
  /** Cancels an order; after its placement and anything else accepted before it on that order. */
  cancelOrder: operationTopic('order.cancel', { batchSize: 50, localConcurrency: 1 }),
  /**
   * Resumes an order's chain (retryOrder): enqueues again the steps that gave up; after anything
   * accepted before it on that order.
   */
  retryOrder: operationTopic('order.retry', { batchSize: 50, localConcurrency: 1 }),
  /**
   * Writes the orders an export matches to its file (src/orders/export.ts): one export at a time per
   * process, each in one transaction that may last minutes for millions of orders, hence 30 minutes per attempt.
   */
  exportOrders: { ...operationTopic('order.export', { batchSize: 1, localConcurrency: 1 }), expireInSeconds: 1800, recordsStart: true }
})
