import type { OrderLine, ShippingAddress } from '../../../orders/domain/events.ts'
import { ORDER_VIEW_STATUS, type OrderView } from '../../../orders/orderView.ts'
import { builder } from '../builder.ts'
import { READ_COST } from '../complexity.ts'
import { OrderEventRef } from './orderEvent.ts'
import { OrderStepRef } from './orderStep.ts'

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order stands as a whole; its steps say more.',
  values: {
    [ORDER_VIEW_STATUS.PLACED]: { description: 'Placed and its stock reserved; the rest of the chain is under way.' },
    [ORDER_VIEW_STATUS.COMPLETED]: { description: 'Every step done. Final.' },
    [ORDER_VIEW_STATUS.CANCELING]: {
      description: 'Canceled (on request, its payment declined, or a step gave up), not final yet: a compensation is pending, retrying or FAILED ' +
        '(steps say which), or the answer of a payment capture under way is awaited.'
    },
    [ORDER_VIEW_STATUS.CANCELED]: { description: 'Canceled, and every compensation it needed done. Final.' },
    [ORDER_VIEW_STATUS.FAILED]: { description: 'The placement failed: its stock could not be reserved (failure says why). Final, unless retryBulk retries its placement.' }
  } as const
})

export const OrderLineRef = builder.objectRef<OrderLine>('OrderLine').implement({
  description: 'One line of an order, as placed.',
  fields: (t) => ({
    sku: t.exposeString('sku'),
    quantity: t.exposeInt('quantity'),
    unitPrice: t.field({ type: 'Decimal', resolve: (line) => line.unitPrice })
  })
})

export const OrderAddressRef = builder.objectRef<ShippingAddress>('OrderAddress').implement({
  description: 'Where an order is shipped.',
  fields: (t) => ({
    name: t.exposeString('name'),
    street: t.exposeString('street'),
    city: t.exposeString('city'),
    postcode: t.exposeString('postcode'),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2 code, such as DE.' })
  })
})

export const OrderFailureRef = builder.objectRef<NonNullable<OrderView['failure']>>('OrderFailure').implement({
  description: 'Why an order failed or was canceled.',
  fields: (t) => ({
    code: t.exposeString('code', { description: 'UNKNOWN_SKU or OUT_OF_STOCK (the placement failed), PAYMENT_DECLINED, REQUESTED or STEP_GAVE_UP (canceled).' }),
    message: t.exposeString('message')
  })
})

const date = (value: string | null): Date | null => value === null ? null : new Date(value)

export const OrderRef = builder.objectRef<OrderView>('Order').implement({
  description: 'An order as the orders read model holds it (issue 4, CQRS): folded from its event stream, updated in the transaction of each step.',
  fields: (t) => ({
    number: t.exposeString('number', { description: 'Given at acceptance (placeOrder answers with it), such as ORD-00000042; an imported order keeps the number it was imported with.' }),
    imported: t.boolean({ description: 'Recorded by placeOrders(mode: IMPORT), with its given number and placedAt.', resolve: (order) => order.imported === true }),
    status: t.field({ type: OrderStatusEnum, resolve: (order) => order.status }),
    customerEmail: t.exposeString('customerEmail'),
    currency: t.exposeString('currency', { description: 'ISO 4217 code, such as EUR.' }),
    lines: t.field({ type: [OrderLineRef], resolve: (order) => order.lines }),
    total: t.field({ type: 'Decimal', description: 'Sum of the lines, exact.', resolve: (order) => order.total }),
    shippingAddress: t.field({ type: OrderAddressRef, resolve: (order) => order.shippingAddress }),
    invoiceNumber: t.exposeString('invoiceNumber', { nullable: true, description: 'Once createInvoice is done.' }),
    carrier: t.exposeString('carrier', { nullable: true, description: 'Once createShipment is done.' }),
    trackingNumber: t.exposeString('trackingNumber', { nullable: true, description: 'Once createShipment is done.' }),
    trackingStatus: t.exposeString('trackingStatus', { nullable: true, description: "The carrier's latest status, once updateTracking is done." }),
    failure: t.field({ type: OrderFailureRef, nullable: true, description: 'Why the order FAILED or was CANCELED; null otherwise.', resolve: (order) => order.failure }),
    cancelReason: t.exposeString('cancelReason', { nullable: true, description: 'PAYMENT_DECLINED, REQUESTED or STEP_GAVE_UP, once canceled.' }),
    placedAt: t.field({ type: 'DateTime', description: 'When the order was placed: for an imported order, the date it was imported with.', resolve: (order) => new Date(order.placedAt) }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (order) => date(order.completedAt) }),
    canceledAt: t.field({ type: 'DateTime', nullable: true, resolve: (order) => date(order.canceledAt) }),
    updatedAt: t.field({ type: 'DateTime', description: 'The time of the latest event.', resolve: (order) => new Date(order.updatedAt) }),
    version: t.exposeInt('version', { description: 'The stream version the order is at (events folded): grows with every event, so a client can tell newer from older.' }),
    steps: t.field({ type: [OrderStepRef], description: 'The chain in order, then the compensations a canceled order needs.', resolve: (order) => order.steps }),
    events: t.field({
      type: [OrderEventRef],
      description: 'Every event of the order, oldest first, read from the event store when asked for.',
      complexity: { field: READ_COST, multiplier: 10 },
      resolve: async (order, _, { services }) => await services.orderEvents(order.id)
    })
  })
})
