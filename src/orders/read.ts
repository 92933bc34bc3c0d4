import type { Viewer } from '../access/principal.ts'
import type { Page } from '../operations/read.ts'
import { run, type Db } from '../platform/db/pool.ts'
import { OPERATION_STATUS } from '../operations/domain/status.ts'
import type { OrderEvent } from './domain/events.ts'
import { orderStreamId } from './domain/order.ts'
import { readStream, type RecordedEvent } from '../platform/events/store.ts'
import { ORDER_TOPICS } from './topics.ts'
import type { OrderView, OrderViewStatus } from './orderView.ts'
import { selectOperationStatus, selectOrderIdByNumber, selectOrderViewsPage, type OrderKey, type OrderPageRow } from './sql/list.ts'
import { selectOrderView } from './sql/orders.ts'

/** An event of an order's stream, as read back from the event store. */
export type OrderEventRecord = RecordedEvent<OrderEvent>

/** An order of a page, with its place in the list (for cursors). */
export interface OrderListItem {
  readonly view: OrderView
  readonly key: OrderKey
}

/** An order the viewer may see, or null: another owner's is answered exactly as a missing one. */
export async function findOrder (db: Db, viewer: Viewer, orderNumber: string): Promise<OrderView | null> {
  const [row] = await run<{ view: OrderView }>(db, selectOrderView(orderNumber, viewer.owner))
  return row?.view ?? null
}

/** A page of the viewer's orders, newest first, optionally of one status. */
export async function listOrders (db: Db, viewer: Viewer, status: OrderViewStatus | null, page: Page<OrderKey>): Promise<OrderListItem[]> {
  const rows = await run<OrderPageRow>(db, selectOrderViewsPage(viewer.owner, status, page.after, page.before, page.limit, page.inverted))
  return rows.map(row => {
    const view = row.view as OrderView
    return { view, key: { placedAt: row.placed_at_key, id: view.id } }
  })
}

/** The events of an order's stream after `afterVersion` (default: all), in order. */
export async function readOrderEvents (db: Db, orderId: string, afterVersion = 0): Promise<OrderEventRecord[]> {
  return await readStream<OrderEvent>(db, orderStreamId(orderId), afterVersion)
}

/**
 * The id of the order a number names, if the viewer may see it: also for an order accepted and
 * not placed yet (the id it will have), so that a client can follow it from the moment placeOrder
 * answered with its number.
 */
export async function findOrderId (db: Db, viewer: Viewer, orderNumber: string): Promise<string | null> {
  const [row] = await run<{ id: string }>(db, selectOrderIdByNumber(orderNumber, viewer.owner, ORDER_TOPICS.placeOrder.queue))
  return row?.id ?? null
}

/** Statuses of a placement operation that may still place its order. */
const MAY_STILL_PLACE: ReadonlySet<string> = new Set([OPERATION_STATUS.OPEN, OPERATION_STATUS.RETRIABLY_FAILED])

/**
 * Whether the placement of an order that has no event will never place it: its operation is final
 * (refused, failed for good, canceled) or gone. Read before the stream: the runner finishes an
 * operation in the transaction that appends its events, so a final status read first and an
 * empty stream read after it mean that no order is coming.
 */
export async function placementEnded (db: Db, orderId: string): Promise<boolean> {
  const [row] = await run<{ status: string }>(db, selectOperationStatus(orderId))
  return row === undefined || !MAY_STILL_PLACE.has(row.status)
}
