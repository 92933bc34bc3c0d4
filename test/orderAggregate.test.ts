import { describe, expect, it } from 'vitest'
import type { InventoryCommand } from '../src/inventory/domain/commands.ts'
import { INVENTORY_ERROR_CODE, InventoryError, type InventoryErrorCode } from '../src/inventory/domain/errors.ts'
import type { InventoryEvent } from '../src/inventory/domain/events.ts'
import * as inventory from '../src/inventory/domain/inventory.ts'
import type { OrderCommand } from '../src/orders/domain/commands.ts'
import { ORDER_ERROR_CODE, OrderError, type OrderErrorCode } from '../src/orders/domain/errors.ts'
import { CANCEL_REASON, type OrderEvent } from '../src/orders/domain/events.ts'
import { STOCK_FAILURE_CODE } from '../src/inventory/domain/stock.ts'
import { COMPENSATION, evolve, initialState, ORDER_STATUS, ORDER_STEP, pendingCompensations, pendingSteps, readySteps, type Order, type OrderState } from '../src/orders/domain/order.ts'
import { decide } from '../src/orders/domain/decide.ts'
import { stockLines } from '../src/inventory/domain/stock.ts'
import type { PlaceOrderInput } from '../src/orders/domain/placeOrder.ts'

// Given/when/then over decide and evolve (emmett's DeciderSpecification), no database.
const now = new Date('2026-11-26T12:00:00.000Z')
const at = now.toISOString()
const orderId = '6f1c2f5e-3b0a-4d1e-9a52-0c1d2e3f4a5b'

const input: PlaceOrderInput = {
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [
    { sku: 'DEMO-0002', quantity: 2, unitPrice: '19.99' },
    { sku: 'DEMO-0001', quantity: 1, unitPrice: '5.00' },
    { sku: 'DEMO-0002', quantity: 1, unitPrice: '19.99' }
  ],
  shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' }
}

function fold (events: readonly OrderEvent[]): OrderState {
  return events.reduce(evolve, initialState())
}

function given (...events: OrderEvent[]) {
  const state = fold(events)
  return {
    state,
    when: (command: OrderCommand) => ({
      then: (expected: OrderEvent[]) => expect(decide(command, state)).toEqual(expected),
      thenThrows: (code: OrderErrorCode, missing?: string[]) => {
        let error: unknown
        try {
          decide(command, state)
        } catch (thrown) {
          error = thrown
        }
        expect(error).toBeInstanceOf(OrderError)
        expect((error as OrderError).code).toBe(code)
        if (missing) expect((error as OrderError).missing).toEqual(missing)
      }
    })
  }
}

// Commands, one per step outcome.
const cmd = {
  place: { type: 'PlaceOrder', data: { orderId, orderNumber: 'ORD-00000042', owner: 'shop-a', input }, now },
  stockReserved: { type: 'RecordStockReserved', data: {}, now },
  stockShortage: {
    type: 'RecordStockShortage',
    data: { code: STOCK_FAILURE_CODE.OUT_OF_STOCK, shortages: [{ sku: 'DEMO-0002', requested: 3, available: 1 }] },
    now
  },
  paymentCaptured: { type: 'RecordPaymentCaptured', data: { paymentId: 'pay_1' }, now },
  paymentDeclined: { type: 'RecordPaymentDeclined', data: { reason: 'card declined' }, now },
  invoiceCreated: { type: 'RecordInvoiceCreated', data: { invoiceNumber: 'INV-7' }, now },
  invoiceEmailed: { type: 'RecordInvoiceEmailed', data: { messageId: '<m1@gateway>' }, now },
  shipmentCreated: { type: 'RecordShipmentCreated', data: { shipmentId: 'shp_1', carrier: 'SIM', trackingNumber: 'TRK123' }, now },
  labelPrinted: { type: 'RecordShippingLabelPrinted', data: { labelRef: 'spool/ORD-00000042.pdf' }, now },
  trackingUpdated: { type: 'RecordTrackingUpdated', data: { status: 'LABEL_CREATED' }, now },
  shippingEmailSent: { type: 'RecordShippingEmailSent', data: { messageId: '<m2@gateway>' }, now },
  exportedToErp: { type: 'RecordOrderExportedToErp', data: { erpReference: 'ERP-1' }, now },
  complete: { type: 'CompleteOrder', data: {}, now },
  cancel: { type: 'CancelOrder', data: {}, now },
  stockReleased: { type: 'RecordStockReleased', data: {}, now },
  paymentRefunded: { type: 'RecordPaymentRefunded', data: { refundId: 're_1' }, now },
  cancellationEmailed: { type: 'RecordCancellationEmailed', data: { messageId: '<m3@gateway>' }, now }
} satisfies Record<string, OrderCommand>

// The events they record.
const lines = [{ sku: 'DEMO-0001', quantity: 1 }, { sku: 'DEMO-0002', quantity: 3 }]
const ev = {
  placed: {
    type: 'OrderPlaced',
    data: {
      orderId,
      orderNumber: 'ORD-00000042',
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      lines: input.items,
      shippingAddress: input.shippingAddress,
      paymentToken: 'tok_visa',
      owner: 'shop-a',
      total: '64.9700',
      placedAt: at
    }
  },
  stockReserved: { type: 'StockReserved', data: { lines, reservedAt: at } },
  stockFailed: {
    type: 'StockReservationFailed',
    data: { code: 'OUT_OF_STOCK', shortages: [{ sku: 'DEMO-0002', requested: 3, available: 1 }], failedAt: at }
  },
  paymentCaptured: { type: 'PaymentCaptured', data: { paymentId: 'pay_1', amount: '64.9700', currency: 'EUR', capturedAt: at } },
  paymentFailed: { type: 'PaymentFailed', data: { reason: 'card declined', failedAt: at } },
  invoiceCreated: { type: 'InvoiceCreated', data: { invoiceNumber: 'INV-7', amount: '64.9700', currency: 'EUR', createdAt: at } },
  invoiceEmailed: { type: 'InvoiceEmailed', data: { invoiceNumber: 'INV-7', to: 'ada@example.com', messageId: '<m1@gateway>', emailedAt: at } },
  shipmentCreated: { type: 'ShipmentCreated', data: { shipmentId: 'shp_1', carrier: 'SIM', trackingNumber: 'TRK123', createdAt: at } },
  stockShipped: { type: 'StockShipped', data: { lines, shippedAt: at } },
  labelPrinted: { type: 'ShippingLabelPrinted', data: { shipmentId: 'shp_1', labelRef: 'spool/ORD-00000042.pdf', printedAt: at } },
  trackingUpdated: { type: 'TrackingUpdated', data: { trackingNumber: 'TRK123', status: 'LABEL_CREATED', updatedAt: at } },
  shippingEmailSent: { type: 'ShippingEmailSent', data: { trackingNumber: 'TRK123', to: 'ada@example.com', messageId: '<m2@gateway>', sentAt: at } },
  exportedToErp: { type: 'OrderExportedToErp', data: { erpReference: 'ERP-1', exportedAt: at } },
  completed: { type: 'OrderCompleted', data: { completedAt: at } },
  canceledOnRequest: { type: 'OrderCanceled', data: { reason: 'REQUESTED', canceledAt: at } },
  canceledForDecline: { type: 'OrderCanceled', data: { reason: 'PAYMENT_DECLINED', canceledAt: at } },
  stockReleased: { type: 'StockReleased', data: { lines, releasedAt: at } },
  paymentRefunded: { type: 'PaymentRefunded', data: { paymentId: 'pay_1', refundId: 're_1', amount: '64.9700', currency: 'EUR', refundedAt: at } },
  cancellationEmailed: { type: 'CancellationEmailed', data: { to: 'ada@example.com', messageId: '<m3@gateway>', emailedAt: at } }
} satisfies Record<string, OrderEvent>

/** The chain in an order the rules allow, each command with the events it records. */
const chain: Array<[OrderCommand, ...OrderEvent[]]> = [
  [cmd.place, ev.placed],
  [cmd.stockReserved, ev.stockReserved],
  [cmd.paymentCaptured, ev.paymentCaptured],
  [cmd.invoiceCreated, ev.invoiceCreated],
  [cmd.invoiceEmailed, ev.invoiceEmailed],
  [cmd.shipmentCreated, ev.shipmentCreated, ev.stockShipped],
  [cmd.labelPrinted, ev.labelPrinted],
  [cmd.trackingUpdated, ev.trackingUpdated],
  [cmd.shippingEmailSent, ev.shippingEmailSent],
  [cmd.exportedToErp, ev.exportedToErp],
  [cmd.complete, ev.completed]
]
const allSteps: OrderEvent[] = chain.slice(0, -1).flatMap(([, ...events]) => events)
const paid: OrderEvent[] = [ev.placed, ev.stockReserved, ev.paymentCaptured]

function order (state: OrderState): Order {
  if (state.status === ORDER_STATUS.NOT_PLACED) throw new Error('no order')
  return state
}

describe('order: the happy chain', () => {
  it('records each step in turn and completes when all are done', () => {
    let state = initialState()
    const recorded: OrderEvent[] = []
    for (const [command, ...expected] of chain) {
      const events = decide(command, state)
      expect(events, command.type).toEqual(expected)
      recorded.push(...events)
      state = events.reduce(evolve, state)
    }
    expect(recorded.map(e => e.type)).toEqual([
      'OrderPlaced', 'StockReserved', 'PaymentCaptured', 'InvoiceCreated', 'InvoiceEmailed', 'ShipmentCreated', 'StockShipped',
      'ShippingLabelPrinted', 'TrackingUpdated', 'ShippingEmailSent', 'OrderExportedToErp', 'OrderCompleted'
    ])
    const completed = order(state)
    expect(completed.status).toBe(ORDER_STATUS.COMPLETED)
    expect(completed.closedAt).toBe(at)
    expect(pendingSteps(completed)).toEqual([])
    expect(Object.keys(completed.done)).toHaveLength(9)
  })

  it('places an order with its total and lines, and says which steps may run next', () => {
    given().when(cmd.place).then([ev.placed])
    const placed = order(given(ev.placed).state)
    expect(placed).toMatchObject({ status: ORDER_STATUS.PLACED, orderNumber: 'ORD-00000042', total: '64.9700', placedAt: at })
    expect(readySteps(placed)).toEqual([ORDER_STEP.RESERVE_STOCK])
    expect(readySteps(order(given(ev.placed, ev.stockReserved).state))).toEqual([ORDER_STEP.CAPTURE_PAYMENT])
    // After payment, three branches run side by side.
    expect(readySteps(order(given(...paid).state))).toEqual([ORDER_STEP.CREATE_INVOICE, ORDER_STEP.CREATE_SHIPMENT, ORDER_STEP.EXPORT_TO_ERP])
    expect(readySteps(order(given(...allSteps).state))).toEqual([])
  })

  it('reserves stock per SKU, the lines of one SKU added up, in SKU order', () => {
    expect(stockLines({ lines: input.items })).toEqual(lines)
  })

  it('lets the branches after payment finish in any order', () => {
    given(...paid, ev.exportedToErp, ev.shipmentCreated, ev.invoiceCreated, ev.labelPrinted, ev.invoiceEmailed, ev.trackingUpdated)
      .when(cmd.shippingEmailSent).then([ev.shippingEmailSent])
  })
})

describe('order: placement', () => {
  it('refuses an invalid input with a message naming the field', () => {
    const bad = { ...cmd.place, data: { ...cmd.place.data, input: { ...input, currency: 'XYZ' } } }
    given().when(bad).thenThrows(ORDER_ERROR_CODE.INVALID_ORDER)
    expect(() => decide(bad, initialState())).toThrow(/currency must be an ISO 4217 code/)
  })

  it('records nothing when the same order is placed again, and refuses another order on the stream', () => {
    given(ev.placed).when(cmd.place).then([])
    given(ev.placed).when({ ...cmd.place, data: { ...cmd.place.data, orderId: 'other' } }).thenThrows(ORDER_ERROR_CODE.ORDER_ALREADY_EXISTS)
  })

  it.each(Object.entries(cmd).filter(([name]) => name !== 'place'))('refuses %s on a stream with no order', (_name, command) => {
    given().when(command).thenThrows(ORDER_ERROR_CODE.ORDER_NOT_FOUND)
  })
})

describe('order: steps out of order are refused', () => {
  it.each<[string, OrderEvent[], OrderCommand, string[]]>([
    ['payment before stock', [ev.placed], cmd.paymentCaptured, ['reserveStock']],
    ['a decline before stock', [ev.placed], cmd.paymentDeclined, ['reserveStock']],
    ['the invoice before payment', [ev.placed, ev.stockReserved], cmd.invoiceCreated, ['capturePayment']],
    ['the invoice email before the invoice', paid, cmd.invoiceEmailed, ['createInvoice']],
    ['the shipment before stock and payment', [ev.placed], cmd.shipmentCreated, ['reserveStock', 'capturePayment']],
    ['the shipment before payment', [ev.placed, ev.stockReserved], cmd.shipmentCreated, ['capturePayment']],
    ['the label before the shipment', paid, cmd.labelPrinted, ['createShipment']],
    ['tracking before the label', [...paid, ev.shipmentCreated], cmd.trackingUpdated, ['printShippingLabel']],
    ['the shipping email before tracking', [...paid, ev.shipmentCreated, ev.labelPrinted], cmd.shippingEmailSent, ['updateTracking']],
    ['the ERP export before payment', [ev.placed, ev.stockReserved], cmd.exportedToErp, ['capturePayment']]
  ])('%s: STEP_OUT_OF_ORDER naming what is missing', (_case, events, command, missing) => {
    given(...events).when(command).thenThrows(ORDER_ERROR_CODE.STEP_OUT_OF_ORDER, missing)
  })

  it('completes only when every step is done: STEPS_PENDING names the rest', () => {
    given(...paid, ev.invoiceCreated, ev.exportedToErp).when(cmd.complete)
      .thenThrows(ORDER_ERROR_CODE.STEPS_PENDING, ['emailInvoice', 'createShipment', 'printShippingLabel', 'updateTracking', 'emailShipping'])
    given(...allSteps.filter(e => e.type !== 'OrderExportedToErp')).when(cmd.complete).thenThrows(ORDER_ERROR_CODE.STEPS_PENDING, ['exportToErp'])
    given(...allSteps).when(cmd.complete).then([ev.completed])
  })
})

describe('order: a step already done records nothing again', () => {
  it.each(chain.map(([command], i) => [command.type, i] as const))('%s repeated', (_type, i) => {
    const [command] = chain[i]!
    given(...chain.slice(0, i + 1).flatMap(([, ...events]) => events)).when(command).then([])
  })

  it('a step retried out of turn after it was done still records nothing', () => {
    given(...allSteps).when(cmd.stockReserved).then([])
    given(...allSteps, ev.completed).when(cmd.paymentCaptured).then([])
  })

  it('a decline, a shortage, a cancellation and each compensation repeated', () => {
    const declined = [ev.placed, ev.stockReserved, ev.paymentFailed, ev.canceledForDecline]
    given(...declined).when(cmd.paymentDeclined).then([])
    given(ev.placed, ev.stockFailed).when(cmd.stockShortage).then([])
    given(ev.placed, ev.canceledOnRequest).when(cmd.cancel).then([])
    given(...declined, ev.stockReleased).when(cmd.stockReleased).then([])
    given(...declined, ev.cancellationEmailed).when(cmd.cancellationEmailed).then([])
    given(...paid, ev.canceledOnRequest, ev.paymentRefunded).when(cmd.paymentRefunded).then([])
  })

  it('an outcome contradicting the recorded one is refused: STEP_ALREADY_SETTLED', () => {
    given(...paid).when(cmd.paymentDeclined).thenThrows(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED)
    given(ev.placed, ev.stockReserved, ev.paymentFailed, ev.canceledForDecline).when(cmd.paymentCaptured).thenThrows(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED)
    given(ev.placed, ev.stockReserved).when(cmd.stockShortage).thenThrows(ORDER_ERROR_CODE.STEP_ALREADY_SETTLED)
  })
})

describe('order: a declined payment cancels the order and compensates', () => {
  const declined = [ev.placed, ev.stockReserved, ev.paymentFailed, ev.canceledForDecline]

  it('records the decline and the cancellation together', () => {
    given(ev.placed, ev.stockReserved).when(cmd.paymentDeclined).then([ev.paymentFailed, ev.canceledForDecline])
    const canceled = order(given(...declined).state)
    expect(canceled).toMatchObject({ status: ORDER_STATUS.CANCELED, cancelReason: CANCEL_REASON.PAYMENT_DECLINED, paymentDeclined: 'card declined' })
    expect(readySteps(canceled)).toEqual([])
  })

  it('needs the stock released and the customer emailed, and no refund', () => {
    expect(pendingCompensations(order(given(...declined).state))).toEqual([COMPENSATION.RELEASE_STOCK, COMPENSATION.EMAIL_CANCELLATION])
    given(...declined).when(cmd.stockReleased).then([ev.stockReleased])
    given(...declined).when(cmd.cancellationEmailed).then([ev.cancellationEmailed])
    given(...declined).when(cmd.paymentRefunded).thenThrows(ORDER_ERROR_CODE.COMPENSATION_NOT_NEEDED)
    expect(pendingCompensations(order(given(...declined, ev.cancellationEmailed, ev.stockReleased).state))).toEqual([])
  })

  it('refuses every forward step and completion afterwards: ORDER_CANCELED', () => {
    for (const command of [cmd.invoiceCreated, cmd.shipmentCreated, cmd.exportedToErp, cmd.complete]) {
      given(...declined).when(command).thenThrows(ORDER_ERROR_CODE.ORDER_CANCELED)
    }
  })
})

describe('order: a stock shortage fails the placement', () => {
  it('records StockReservationFailed with its code; the order is FAILED and needs no compensation', () => {
    given(ev.placed).when(cmd.stockShortage).then([ev.stockFailed])
    const failed = order(given(ev.placed, ev.stockFailed).state)
    expect(failed).toMatchObject({ status: ORDER_STATUS.FAILED, stockFailure: { code: 'OUT_OF_STOCK' }, closedAt: at })
    expect(readySteps(failed)).toEqual([])
    expect(pendingCompensations(failed)).toEqual([])
  })

  it('refuses every other command: ORDER_FAILED', () => {
    for (const command of [cmd.stockReserved, cmd.paymentCaptured, cmd.paymentDeclined, cmd.complete, cmd.cancel]) {
      given(ev.placed, ev.stockFailed).when(command).thenThrows(ORDER_ERROR_CODE.ORDER_FAILED)
    }
    given(ev.placed, ev.stockFailed).when(cmd.stockReleased).thenThrows(ORDER_ERROR_CODE.ORDER_NOT_CANCELED)
  })
})

describe('order: cancellation', () => {
  it('before stock: nothing to release or refund, only the email', () => {
    given(ev.placed).when(cmd.cancel).then([ev.canceledOnRequest])
    const canceled = order(given(ev.placed, ev.canceledOnRequest).state)
    expect(pendingCompensations(canceled)).toEqual([COMPENSATION.EMAIL_CANCELLATION])
    given(ev.placed, ev.canceledOnRequest).when(cmd.stockReleased).thenThrows(ORDER_ERROR_CODE.COMPENSATION_NOT_NEEDED)
  })

  it('after payment, until the stock ships: stock released, payment refunded, customer emailed', () => {
    given(...paid, ev.invoiceCreated, ev.exportedToErp).when(cmd.cancel).then([ev.canceledOnRequest])
    const canceled = [...paid, ev.canceledOnRequest]
    expect(pendingCompensations(order(given(...canceled).state)))
      .toEqual([COMPENSATION.RELEASE_STOCK, COMPENSATION.REFUND_PAYMENT, COMPENSATION.EMAIL_CANCELLATION])
    given(...canceled).when(cmd.paymentRefunded).then([ev.paymentRefunded])
  })

  it('needs no refund of a zero total that was captured: nothing was taken (issue #12, item 4)', () => {
    const free = { ...ev.placed, data: { ...ev.placed.data, total: '0.0000' } } as OrderEvent
    const canceled = [free, ev.stockReserved, { ...ev.paymentCaptured, data: { ...ev.paymentCaptured.data, amount: '0.0000' } } as OrderEvent, ev.canceledOnRequest]
    expect(pendingCompensations(order(given(...canceled).state))).toEqual([COMPENSATION.RELEASE_STOCK, COMPENSATION.EMAIL_CANCELLATION])
    given(...canceled).when(cmd.paymentRefunded).thenThrows(ORDER_ERROR_CODE.COMPENSATION_NOT_NEEDED)
  })

  it('is refused once the order is completed: ORDER_COMPLETED', () => {
    given(...allSteps, ev.completed).when(cmd.cancel).thenThrows(ORDER_ERROR_CODE.ORDER_COMPLETED)
  })

  it('stops the forward steps (ORDER_CANCELED); compensations need a canceled order (ORDER_NOT_CANCELED)', () => {
    given(...paid, ev.canceledOnRequest).when(cmd.invoiceCreated).thenThrows(ORDER_ERROR_CODE.ORDER_CANCELED)
    given(ev.placed, ev.canceledOnRequest).when(cmd.stockReserved).thenThrows(ORDER_ERROR_CODE.ORDER_CANCELED)
    given(ev.placed, ev.canceledOnRequest).when(cmd.stockShortage).thenThrows(ORDER_ERROR_CODE.ORDER_CANCELED)
    given(...paid).when(cmd.stockReleased).thenThrows(ORDER_ERROR_CODE.ORDER_NOT_CANCELED)
    given(...paid).when(cmd.cancellationEmailed).thenThrows(ORDER_ERROR_CODE.ORDER_NOT_CANCELED)
  })

  it('still records a capture that completed after the cancellation, and then needs a refund', () => {
    const canceled = [ev.placed, ev.stockReserved, ev.canceledOnRequest]
    expect(pendingCompensations(order(given(...canceled).state))).not.toContain(COMPENSATION.REFUND_PAYMENT)
    given(...canceled).when(cmd.paymentCaptured).then([ev.paymentCaptured])
    expect(pendingCompensations(order(given(...canceled, ev.paymentCaptured).state))).toContain(COMPENSATION.REFUND_PAYMENT)
    // A decline arriving after the cancellation changes nothing more.
    given(...canceled).when(cmd.paymentDeclined).thenThrows(ORDER_ERROR_CODE.ORDER_CANCELED)
  })
})

describe('inventory', () => {
  const sku = 'DEMO-0001'
  const adjust = (quantity: number): InventoryCommand => ({ type: 'AdjustStock', data: { sku, quantity }, now })
  const reserve = (quantity: number, id = orderId): InventoryCommand => ({ type: 'ReserveStock', data: { sku, orderId: id, quantity }, now })
  const release = (quantity: number): InventoryCommand => ({ type: 'ReleaseStock', data: { sku, orderId, quantity }, now })
  const adjusted = (quantity: number): InventoryEvent => ({ type: 'InventoryAdjusted', data: { sku, quantity, adjustedAt: at } })
  const reserved = (quantity: number): InventoryEvent => ({ type: 'InventoryReserved', data: { sku, orderId, quantity, reservedAt: at } })
  const released = (quantity: number): InventoryEvent => ({ type: 'InventoryReleased', data: { sku, orderId, quantity, releasedAt: at } })
  const stock = (...events: InventoryEvent[]): inventory.InventoryState => events.reduce(inventory.evolve, inventory.initialState())
  const refused = (command: InventoryCommand, state: inventory.InventoryState, code: InventoryErrorCode): void => {
    expect(() => inventory.decide(command, state)).toThrow(InventoryError)
    expect(() => inventory.decide(command, state)).toThrow(expect.objectContaining({ code, sku }))
  }

  it('creates an unknown SKU by its first adjustment, zero included, and adjusts by signed quantities', () => {
    expect(inventory.decide(adjust(10), inventory.initialState())).toEqual([adjusted(10)])
    expect(inventory.decide(adjust(0), inventory.initialState())).toEqual([adjusted(0)])
    expect(stock(adjusted(0))).toEqual({ known: true, available: 0, reserved: 0, shipped: 0 })
    expect(inventory.decide(adjust(-4), stock(adjusted(10)))).toEqual([adjusted(-4)])
    expect(stock(adjusted(10), adjusted(-4))).toEqual({ known: true, available: 6, reserved: 0, shipped: 0 })
    expect(inventory.decide(adjust(0), stock(adjusted(10)))).toEqual([])
  })

  it('never takes the available units below zero, nor reserved ones away: NEGATIVE_STOCK', () => {
    refused(adjust(-1), inventory.initialState(), INVENTORY_ERROR_CODE.NEGATIVE_STOCK)
    refused(adjust(-5), stock(adjusted(10), reserved(6)), INVENTORY_ERROR_CODE.NEGATIVE_STOCK)
    expect(inventory.decide(adjust(-4), stock(adjusted(10), reserved(6)))).toEqual([adjusted(-4)])
  })

  it('reserves what is available of a known SKU', () => {
    expect(inventory.decide(reserve(6), stock(adjusted(10)))).toEqual([reserved(6)])
    expect(stock(adjusted(10), reserved(6))).toEqual({ known: true, available: 4, reserved: 6, shipped: 0 })
    refused(reserve(5), stock(adjusted(10), reserved(6)), INVENTORY_ERROR_CODE.INSUFFICIENT_STOCK)
    refused(reserve(1), inventory.initialState(), INVENTORY_ERROR_CODE.UNKNOWN_SKU)
  })

  it.each([0, -1, 1.5, Number.NaN, inventory.MAX_STOCK_CHANGE + 1])('refuses to reserve or release %s units: INVALID_QUANTITY', (quantity) => {
    refused(reserve(quantity), stock(adjusted(10), reserved(5)), INVENTORY_ERROR_CODE.INVALID_QUANTITY)
    refused(release(quantity), stock(adjusted(10), reserved(5)), INVENTORY_ERROR_CODE.INVALID_QUANTITY)
  })

  it('releases no more than is reserved', () => {
    expect(inventory.decide(release(6), stock(adjusted(10), reserved(6)))).toEqual([released(6)])
    expect(stock(adjusted(10), reserved(6), released(6))).toEqual({ known: true, available: 10, reserved: 0, shipped: 0 })
    refused(release(7), stock(adjusted(10), reserved(6)), INVENTORY_ERROR_CODE.RELEASE_EXCEEDS_RESERVED)
    refused(release(1), inventory.initialState(), INVENTORY_ERROR_CODE.UNKNOWN_SKU)
  })

  describe('planReservation: all or nothing across an order\'s SKUs', () => {
    const level = (available: number): inventory.InventoryState => ({ known: true, available, reserved: 0, shipped: 0 })

    it('reserves every SKU, the lines of one SKU added up, in SKU order', () => {
      const plan = inventory.planReservation(orderId, input.items, new Map([['DEMO-0001', level(1)], ['DEMO-0002', level(3)]]), now)
      expect(plan).toEqual({
        ok: true,
        appends: [
          { sku: 'DEMO-0001', events: [{ type: 'InventoryReserved', data: { sku: 'DEMO-0001', orderId, quantity: 1, reservedAt: at } }] },
          { sku: 'DEMO-0002', events: [{ type: 'InventoryReserved', data: { sku: 'DEMO-0002', orderId, quantity: 3, reservedAt: at } }] }
        ]
      })
    })

    it('reserves nothing when one SKU is short, and reports every shortage: OUT_OF_STOCK', () => {
      const plan = inventory.planReservation(orderId, input.items, new Map([['DEMO-0001', level(1)], ['DEMO-0002', level(2)]]), now)
      expect(plan).toEqual({ ok: false, code: STOCK_FAILURE_CODE.OUT_OF_STOCK, shortages: [{ sku: 'DEMO-0002', requested: 3, available: 2 }] })
    })

    it('names an unknown SKU first: UNKNOWN_SKU', () => {
      const plan = inventory.planReservation(orderId, input.items, new Map([['DEMO-0002', level(0)]]), now)
      expect(plan).toEqual({
        ok: false,
        code: STOCK_FAILURE_CODE.UNKNOWN_SKU,
        shortages: [{ sku: 'DEMO-0001', requested: 1, available: 0 }, { sku: 'DEMO-0002', requested: 3, available: 0 }]
      })
    })
  })
})
