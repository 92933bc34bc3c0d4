/**
 * Issue 13 (items 1, 2, 3 and 10), given/when/then over the pure aggregates and the read model's
 * fold, no database: a failed placement decided again, stock that ships, a step that gave up and
 * its timer, and a cancellation that is final only when nothing more can happen to the order.
 */
import { describe, expect, it } from 'vitest'
import type { InventoryCommand } from '../src/inventory/domain/commands.ts'
import { INVENTORY_ERROR_CODE } from '../src/inventory/domain/errors.ts'
import type { InventoryEvent } from '../src/inventory/domain/events.ts'
import * as inventory from '../src/inventory/domain/inventory.ts'
import { dueWork, givenUpWork } from '../src/orders/changes.ts'
import { giveUpTimers } from '../src/orders/chain/giveUp.ts'
import type { OrderCommand } from '../src/orders/domain/commands.ts'
import { decide } from '../src/orders/domain/decide.ts'
import { ORDER_ERROR_CODE, OrderError } from '../src/orders/domain/errors.ts'
import type { OrderEvent } from '../src/orders/domain/events.ts'
import { evolve, initialState, isSettled, ORDER_STATUS, requiredCompensations, type Order, type OrderState } from '../src/orders/domain/order.ts'
import { orderViewOf, type OrderView } from '../src/orders/orderView.ts'
import { isFinalOrderView } from '../src/orders/progressFeed.ts'

const now = new Date('2026-11-26T12:00:00.000Z')
const at = now.toISOString()
const later = '2026-11-26T13:00:00.000Z'
const orderId = '6f1c2f5e-3b0a-4d1e-9a52-0c1d2e3f4a5b'
const lines = [{ sku: 'DEMO-0001', quantity: 2 }]

const ev = {
  placed: {
    type: 'OrderPlaced',
    data: {
      orderId,
      orderNumber: 'ORD-00000042',
      customerEmail: 'ada@example.com',
      currency: 'EUR',
      lines: [{ sku: 'DEMO-0001', quantity: 2, unitPrice: '5' }],
      shippingAddress: { name: 'Ada', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' },
      paymentToken: 'tok_visa',
      owner: 'shop-a',
      total: '10.0000',
      placedAt: at
    }
  },
  stockReserved: { type: 'StockReserved', data: { lines, reservedAt: at } },
  stockFailed: { type: 'StockReservationFailed', data: { code: 'UNKNOWN_SKU', shortages: [{ sku: 'DEMO-0001', requested: 2, available: 0 }], failedAt: at } },
  placementRetried: { type: 'PlacementRetried', data: { retriedAt: at } },
  paymentCaptured: { type: 'PaymentCaptured', data: { paymentId: 'pay_1', amount: '10.0000', currency: 'EUR', capturedAt: at } },
  paymentFailed: { type: 'PaymentFailed', data: { reason: 'card declined', failedAt: at } },
  captureGaveUp: { type: 'StepFailed', data: { step: 'capturePayment', attempt: 11, error: 'payment: unavailable', final: true, failedAt: at } },
  captureRetried: { type: 'StepRetried', data: { step: 'capturePayment', retriedAt: at } },
  shipmentCreated: { type: 'ShipmentCreated', data: { shipmentId: 'shp_1', carrier: 'SIM', trackingNumber: 'TRK1', createdAt: at } },
  stockShipped: { type: 'StockShipped', data: { lines, shippedAt: at } },
  canceledOnRequest: { type: 'OrderCanceled', data: { reason: 'REQUESTED', canceledAt: at } },
  givenUp: { type: 'OrderGivenUp', data: { step: 'capturePayment', givenUpAt: at } },
  canceledGaveUp: { type: 'OrderCanceled', data: { reason: 'STEP_GAVE_UP', canceledAt: at } },
  captureAwaited: { type: 'CaptureOutcomeAwaited', data: { awaitedAt: at } },
  captureRuledOut: { type: 'CaptureRuledOut', data: { ruledOutAt: at } },
  stockReleased: { type: 'StockReleased', data: { lines, releasedAt: at } },
  refunded: { type: 'PaymentRefunded', data: { paymentId: 'pay_1', refundId: 're_1', amount: '10.0000', currency: 'EUR', refundedAt: at } },
  emailed: { type: 'CancellationEmailed', data: { to: 'ada@example.com', messageId: '<m@gw>', emailedAt: at } },
  emailGaveUp: { type: 'StepFailed', data: { step: 'emailCancellation', attempt: 1, error: 'email: down', final: true, failedAt: at } },
  emailRetried: { type: 'StepRetried', data: { step: 'emailCancellation', retriedAt: at } }
} satisfies Record<string, OrderEvent>

const fold = (events: readonly OrderEvent[]): OrderState => events.reduce(evolve, initialState())
const order = (events: readonly OrderEvent[]): Order => {
  const state = fold(events)
  if (state.status === ORDER_STATUS.NOT_PLACED) throw new Error('no order')
  return state
}
const view = (events: readonly OrderEvent[]): OrderView => orderViewOf(events.map((event, i) => ({ event, place: { streamVersion: i + 1 } })))!
const step = (v: OrderView, name: string) => v.steps.find(s => s.name === name)
const command = <T extends OrderCommand['type']>(type: T, data: Extract<OrderCommand, { type: T }>['data']): OrderCommand => ({ type, data, now } as OrderCommand)
const refusal = (events: readonly OrderEvent[], cmd: OrderCommand): string | undefined => {
  try {
    decide(cmd, fold(events))
  } catch (error) {
    return (error as OrderError).code
  }
  return undefined
}

const paid = [ev.placed, ev.stockReserved, ev.paymentCaptured]

describe('item 1: a placement that failed for stock is decided again when retried', () => {
  it('records PlacementRetried on a FAILED order, then the stock is decided as at placement', () => {
    const failed = [ev.placed, ev.stockFailed]
    expect(decide(command('RetryPlacement', {}), fold(failed))).toEqual([ev.placementRetried])
    const reopened = order([...failed, ev.placementRetried])
    expect(reopened).toMatchObject({ status: ORDER_STATUS.PLACED, stockFailure: null, closedAt: null })
    expect(decide(command('RecordStockReserved', {}), reopened)).toEqual([ev.stockReserved])
    expect(dueWork(order([...failed, ev.placementRetried, ev.stockReserved]))).toEqual(['capturePayment'])
    // Still short: the placement fails again, recorded again.
    expect(decide(command('RecordStockShortage', { code: 'UNKNOWN_SKU', shortages: ev.stockFailed.data.shortages }), reopened)).toEqual([ev.stockFailed])
  })

  it('decides nothing on an order placed already, and refuses a stream with no order', () => {
    expect(decide(command('RetryPlacement', {}), fold(paid))).toEqual([])
    expect(refusal([], command('RetryPlacement', {}))).toBe(ORDER_ERROR_CODE.ORDER_NOT_FOUND)
  })

  it('shows the order PLACED again, reserveStock open with its failed attempt kept, then done', () => {
    const retried = view([ev.placed, ev.stockFailed, ev.placementRetried])
    expect(retried).toMatchObject({ status: 'PLACED', failure: null })
    expect(step(retried, 'reserveStock')).toMatchObject({ status: 'PENDING', attempts: 1, lastError: expect.stringContaining('UNKNOWN_SKU') })
    expect(step(retried, 'capturePayment')).toMatchObject({ status: 'PENDING' })
    expect(step(view([ev.placed, ev.stockFailed, ev.placementRetried, ev.stockReserved]), 'reserveStock')).toMatchObject({ status: 'DONE', attempts: 2 })
  })
})

describe('item 2: the reserved stock ships with the shipment', () => {
  const sku = 'DEMO-0001'
  const adjusted = (quantity: number): InventoryEvent => ({ type: 'InventoryAdjusted', data: { sku, quantity, adjustedAt: at } })
  const reserved = (quantity: number): InventoryEvent => ({ type: 'InventoryReserved', data: { sku, orderId, quantity, reservedAt: at } })
  const shipped = (quantity: number): InventoryEvent => ({ type: 'InventoryShipped', data: { sku, orderId, quantity, shippedAt: at } })
  const ship = (quantity: number): InventoryCommand => ({ type: 'ShipStock', data: { sku, orderId, quantity }, now })
  const stock = (...events: InventoryEvent[]): inventory.InventoryState => events.reduce(inventory.evolve, inventory.initialState())

  it('records StockShipped with ShipmentCreated, after which the order can no longer be canceled', () => {
    expect(decide(command('RecordShipmentCreated', { shipmentId: 'shp_1', carrier: 'SIM', trackingNumber: 'TRK1' }), fold(paid)))
      .toEqual([ev.shipmentCreated, ev.stockShipped])
    expect(order([...paid, ev.shipmentCreated, ev.stockShipped]).stockShipped).toBe(true)
    expect(refusal([...paid, ev.shipmentCreated, ev.stockShipped], command('CancelOrder', {}))).toBe(ORDER_ERROR_CODE.ORDER_SHIPPED)
  })

  it('folds a stream from before StockShipped as before: a cancellation after its shipment releases the stock', () => {
    const old = order([...paid, ev.shipmentCreated, ev.canceledOnRequest])
    expect(requiredCompensations(old)).toEqual(['releaseStock', 'refundPayment', 'emailCancellation'])
  })

  it('turns reserved units into shipped ones: on hand + shipped stays the sum of the adjustments', () => {
    expect(inventory.decide(ship(2), stock(adjusted(10), reserved(3)))).toEqual([shipped(2)])
    const after = stock(adjusted(10), reserved(3), shipped(2))
    expect(after).toEqual({ known: true, available: 7, reserved: 1, shipped: 2 })
    expect(inventory.onHand(after)).toBe(8)
    expect(inventory.onHand(after) + after.shipped).toBe(10)
  })

  it('ships no more than is reserved: SHIPMENT_EXCEEDS_RESERVED', () => {
    expect(() => inventory.decide(ship(4), stock(adjusted(10), reserved(3)))).toThrow(expect.objectContaining({ code: INVENTORY_ERROR_CODE.SHIPMENT_EXCEEDS_RESERVED }))
    expect(() => inventory.decide(ship(1), inventory.initialState())).toThrow(expect.objectContaining({ code: INVENTORY_ERROR_CODE.UNKNOWN_SKU }))
  })
})

describe('item 3: a step that gave up cancels its order once its timer runs out', () => {
  const gaveUp = [ev.placed, ev.stockReserved, ev.captureGaveUp]
  const giveUp = command('GiveUpOrder', { step: 'capturePayment', failedAt: at })

  it('sets a timer for a forward step given up while the stock is held, and none otherwise', () => {
    expect(giveUpTimers(orderId, fold(gaveUp), [ev.captureGaveUp])).toEqual([{ orderId, step: 'capturePayment', failedAt: at }])
    expect(giveUpTimers(orderId, fold(gaveUp), [{ ...ev.captureGaveUp, data: { ...ev.captureGaveUp.data, final: false } }])).toEqual([])
    const shippedGaveUp: OrderEvent = { type: 'StepFailed', data: { step: 'emailShipping', attempt: 1, error: 'email: down', final: true, failedAt: at } }
    expect(giveUpTimers(orderId, fold([...paid, ev.shipmentCreated, ev.stockShipped, shippedGaveUp]), [shippedGaveUp])).toEqual([])
    expect(giveUpTimers(orderId, fold([...paid, ev.canceledOnRequest, ev.emailGaveUp]), [ev.emailGaveUp])).toEqual([])
  })

  it('cancels the order (STEP_GAVE_UP): stock released, the customer emailed, the capture asked once more', () => {
    expect(dueWork(fold(gaveUp))).toEqual([])
    expect(decide(giveUp, fold(gaveUp))).toEqual([ev.givenUp, ev.canceledGaveUp, ev.captureAwaited])
    const canceled = order([...gaveUp, ev.givenUp, ev.canceledGaveUp, ev.captureAwaited])
    expect(canceled).toMatchObject({ status: ORDER_STATUS.CANCELED, cancelReason: 'STEP_GAVE_UP', gaveUpStep: 'capturePayment', givenUp: {} })
    // The capture step had no job any more: it gets one, to find a capture its last attempt may have made.
    expect(dueWork(canceled)).toEqual(['capturePayment', 'releaseStock', 'emailCancellation'])
    const shown = view([...gaveUp, ev.givenUp, ev.canceledGaveUp, ev.captureAwaited])
    expect(shown).toMatchObject({ status: 'CANCELING', cancelReason: 'STEP_GAVE_UP', failure: { code: 'STEP_GAVE_UP', message: 'capturePayment gave up (payment: unavailable)' } })
    expect(step(shown, 'capturePayment')).toMatchObject({ status: 'FAILED', lastError: 'payment: unavailable' })
  })

  it('records nothing when the step was retried, gave up again since, the stock shipped, or the order ended', () => {
    expect(decide(giveUp, fold([...gaveUp, ev.captureRetried]))).toEqual([])
    expect(decide({ ...giveUp, data: { step: 'capturePayment', failedAt: later } } as OrderCommand, fold(gaveUp))).toEqual([])
    const emailGaveUp: OrderEvent = { type: 'StepFailed', data: { step: 'emailShipping', attempt: 1, error: 'email: down', final: true, failedAt: at } }
    expect(decide(command('GiveUpOrder', { step: 'emailShipping', failedAt: at }), fold([...paid, ev.shipmentCreated, ev.stockShipped, emailGaveUp]))).toEqual([])
    expect(decide(giveUp, fold([...gaveUp, ev.givenUp, ev.canceledGaveUp, ev.captureAwaited]))).toEqual([])
  })
})

describe('item 10: a canceled order is final only when nothing more can happen to it', () => {
  const midPayment = [ev.placed, ev.stockReserved, ev.canceledOnRequest, ev.captureAwaited]

  it('awaits the capture step when canceled mid-payment, and not when the payment was settled', () => {
    expect(decide(command('CancelOrder', {}), fold([ev.placed, ev.stockReserved]))).toEqual([ev.canceledOnRequest, ev.captureAwaited])
    expect(decide(command('CancelOrder', {}), fold(paid))).toEqual([ev.canceledOnRequest])
    expect(dueWork(fold(midPayment))).toEqual(['capturePayment', 'releaseStock', 'emailCancellation'])
  })

  it('is settled once every compensation is done and the capture ruled out, captured and refunded, or declined', () => {
    const compensated = [...midPayment, ev.stockReleased, ev.emailed]
    expect(isSettled(order(compensated))).toBe(false)
    expect(decide(command('RecordCaptureRuledOut', {}), fold(compensated))).toEqual([ev.captureRuledOut])
    expect(isSettled(order([...compensated, ev.captureRuledOut]))).toBe(true)
    expect(decide(command('RecordCaptureRuledOut', {}), fold([...compensated, ev.captureRuledOut]))).toEqual([])
    // A late capture: recorded, and refunded before the order is final.
    const captured = order([...compensated, ev.paymentCaptured])
    expect(isSettled(captured)).toBe(false)
    expect(isSettled(order([...compensated, ev.paymentCaptured, ev.refunded]))).toBe(true)
    // A late decline: nothing was taken.
    expect(decide(command('RecordPaymentDeclined', { reason: 'card declined' }), fold(compensated))).toEqual([ev.paymentFailed])
    expect(isSettled(order([...compensated, ev.paymentFailed]))).toBe(true)
    expect(refusal(paid, command('RecordCaptureRuledOut', {}))).toBe(ORDER_ERROR_CODE.ORDER_NOT_CANCELED)
  })

  it('shows CANCELING until then, a failed compensation FAILED, and CANCELED at the end', () => {
    const compensating = [...midPayment, ev.stockReleased]
    expect(view(compensating).status).toBe('CANCELING')
    const failedEmail = view([...compensating, ev.captureRuledOut, ev.emailGaveUp])
    expect(failedEmail.status).toBe('CANCELING')
    expect(step(failedEmail, 'emailCancellation')).toMatchObject({ status: 'FAILED', lastError: 'email: down' })
    expect(isFinalOrderView(failedEmail)).toBe(false)
    expect(givenUpWork(fold([...compensating, ev.captureRuledOut, ev.emailGaveUp]))).toEqual(['emailCancellation'])
    const done = view([...compensating, ev.captureRuledOut, ev.emailGaveUp, ev.emailRetried, ev.emailed])
    expect(done.status).toBe('CANCELED')
    expect(isFinalOrderView(done)).toBe(true)
  })

  it('lets retryOrder ask the capture step again on a canceled order that awaits it', () => {
    const captureFailed: OrderEvent = { ...ev.captureGaveUp }
    expect(givenUpWork(fold([...midPayment, captureFailed]))).toEqual(['capturePayment'])
    expect(decide(command('RecordStepRetried', { step: 'capturePayment' }), fold([...midPayment, captureFailed]))).toEqual([ev.captureRetried])
  })

  it('folds a canceled stream from before issue 13 to CANCELED once its compensations are done', () => {
    const old = [ev.placed, ev.stockReserved, ev.canceledOnRequest, ev.stockReleased, ev.emailed]
    expect(isSettled(order(old))).toBe(true)
    expect(view(old).status).toBe('CANCELED')
  })
})
