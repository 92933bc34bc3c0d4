import type { OrderEventRecord } from '../../../orders/read.ts'
import { builder } from '../builder.ts'

export const OrderEventRef = builder.objectRef<OrderEventRecord>('OrderEvent').implement({
  description: "An event of the order's stream in the event store (`order-<id>`), as recorded: what the order's state is folded from.",
  fields: (t) => ({
    type: t.exposeString('type', { description: 'The event type: OrderPlaced, StockReserved, PaymentCaptured, … (docs/orders.md lists them).' }),
    version: t.exposeInt('streamVersion', { description: 'Its place in the stream: 1 for OrderPlaced, then one more per event.' }),
    position: t.field({ type: 'SafeInt', description: 'Its place in the whole log (grows with insertion, not commit, order).', resolve: (event) => event.position }),
    recordedAt: t.field({ type: 'DateTime', resolve: (event) => event.recordedAt }),
    data: t.field({ type: 'JSON', description: "The event's data, as decided (times in ISO 8601, amounts as decimal strings).", resolve: (event) => event.data })
  })
})
