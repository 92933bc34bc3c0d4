import { describe, expect, it } from 'vitest'
import type { OrderCommand } from '../src/orders/domain/commands.ts'
import { decide } from '../src/orders/domain/decide.ts'
import { ORDER_ERROR_CODE, OrderError } from '../src/orders/domain/errors.ts'
import type { ImportOptions, OrderEvent } from '../src/orders/domain/events.ts'
import { IMPORT_SKIP_REASON, validateImport } from '../src/orders/domain/importOrder.ts'
import { giveUpTimers } from '../src/orders/chain/giveUp.ts'
import { evolve, initialState, ORDER_STATUS, pendingCompensations, pendingSteps, readySteps, type Order } from '../src/orders/domain/order.ts'
import type { PlaceOrderInput } from '../src/orders/domain/placeOrder.ts'

// Given/when/then over decide and evolve for imports (issue 15, part 4), no database.
const now = new Date('2026-11-30T12:00:00.000Z')
const at = now.toISOString()
const orderId = '0b8a6c1e-5d4f-4e3a-9b2c-1d0e9f8a7b6c'
const input: PlaceOrderInput = {
  customerEmail: 'ada@example.com',
  currency: 'EUR',
  items: [{ sku: 'DEMO-0001', quantity: 3, unitPrice: '2.50' }],
  shippingAddress: { name: 'Ada Lovelace', street: 'Main Street 1', city: 'Berlin', postcode: '10115', country: 'DE' },
  orderNumber: '100000042',
  placedAt: '2019-05-17T12:00:00+02:00'
}

function importing (options: ImportOptions, overrides: Partial<PlaceOrderInput> = {}): OrderCommand {
  return { type: 'ImportOrder', data: { orderId, owner: 'shop-a', input: { ...input, ...overrides }, options }, now }
}

function play (events: readonly OrderEvent[], command: OrderCommand): { events: OrderEvent[], state: Order } {
  const state = events.reduce(evolve, initialState())
  const decided = decide(command, state)
  return { events: decided, state: [...events, ...decided].reduce(evolve, initialState()) as Order }
}

describe('the order aggregate, importing', () => {
  it('given no order, when an import skips stock and exports to the ERP, then OrderImported under its number and date, every other step skipped, the export due', () => {
    const { events, state } = play([], importing({ stock: 'SKIP', exportToErp: true }))
    expect(events[0]).toEqual({
      type: 'OrderImported',
      data: expect.objectContaining({ orderNumber: '100000042', placedAt: '2019-05-17T10:00:00.000Z', importedAt: at, stock: 'SKIP', exportToErp: true, total: '7.5000' })
    })
    expect(events.slice(1).map(event => event.type === 'StepSkipped' && [event.data.step, event.data.reason])).toEqual([
      ['reserveStock', IMPORT_SKIP_REASON.reserveStock],
      ['capturePayment', 'imported: paid outside the gateway'],
      ['createInvoice', IMPORT_SKIP_REASON.createInvoice],
      ['emailInvoice', 'imported: no customer email'],
      ['createShipment', IMPORT_SKIP_REASON.createShipment],
      ['printShippingLabel', IMPORT_SKIP_REASON.printShippingLabel],
      ['updateTracking', IMPORT_SKIP_REASON.updateTracking],
      ['emailShipping', 'imported: no customer email']
    ])
    expect(state).toMatchObject({ status: ORDER_STATUS.PLACED, placedAt: '2019-05-17T10:00:00.000Z', imported: { stock: 'SKIP', exportToErp: true } })
    expect(readySteps(state)).toEqual(['exportToErp'])
  })

  it('given an import with exportToErp: false, then nothing is left to run', () => {
    const { events, state } = play([], importing({ stock: 'SKIP', exportToErp: false }))
    expect(events.at(-1)).toEqual({ type: 'StepSkipped', data: { step: 'exportToErp', reason: 'imported with exportToErp: false', skippedAt: at } })
    expect(pendingSteps(state)).toEqual([])
  })

  it('given an import that deducts stock, when its stock is reserved, then it ships at once and the rest is skipped', () => {
    const imported = play([], importing({ stock: 'DEDUCT', exportToErp: true }))
    expect(imported.events.map(event => event.type)).toEqual(['OrderImported'])
    expect(readySteps(imported.state)).toEqual(['reserveStock'])
    const reserved = play(imported.events, { type: 'RecordStockReserved', data: {}, now })
    expect(reserved.events.slice(0, 2).map(event => event.type)).toEqual(['StockReserved', 'StockShipped'])
    expect(reserved.events.slice(2).every(event => event.type === 'StepSkipped')).toBe(true)
    expect(reserved.state.stockShipped).toBe(true)
    expect(readySteps(reserved.state)).toEqual(['exportToErp'])
  })

  it('given an imported order canceled, then it needs no compensation: no stock was held, no money taken, nobody is emailed', () => {
    const imported = play([], importing({ stock: 'SKIP', exportToErp: true }))
    const canceled = play(imported.events, { type: 'CancelOrder', data: {}, now })
    expect(canceled.events.map(event => event.type)).toEqual(['OrderCanceled'])
    expect(pendingCompensations(canceled.state)).toEqual([])
  })

  it('given the same import delivered again, then nothing; given an invalid one, then INVALID_ORDER', () => {
    const imported = play([], importing({ stock: 'SKIP', exportToErp: true }))
    expect(play(imported.events, importing({ stock: 'SKIP', exportToErp: true })).events).toEqual([])
    let error: unknown
    try {
      decide(importing({ stock: 'SKIP', exportToErp: true }, { placedAt: null }), initialState())
    } catch (thrown) { error = thrown }
    expect(error).toBeInstanceOf(OrderError)
    expect((error as OrderError).code).toBe(ORDER_ERROR_CODE.INVALID_ORDER)
  })

  it('validates the fields of an import: number form, the gateway\'s own numbers, date form, dates in the future', () => {
    expect(validateImport(input, now)).toEqual({ ok: true })
    expect(validateImport({ ...input, orderNumber: '#1001' }, now)).toEqual({ ok: true })
    const problem = (overrides: Partial<PlaceOrderInput>): string => {
      const result = validateImport({ ...input, ...overrides }, now)
      return result.ok ? '' : result.message
    }
    expect(problem({ orderNumber: 'ORD-00000007' })).toContain("must not look like the gateway's own numbers")
    expect(problem({ orderNumber: 'has space' })).toContain('orderNumber must be 1 to 40 letters')
    expect(problem({ placedAt: '17.05.2019' })).toContain('placedAt must be a date-time')
    expect(problem({ placedAt: '2026-11-30T12:00:01Z' })).toContain('placedAt must not be in the future')
  })
  it('given an import whose ERP export gave up, then no give-up timer is set and a timer decides nothing: a historical order holds no stock or money, and is not canceled', () => {
    const imported = play([], importing({ stock: 'SKIP', exportToErp: true })).events
    const { events, state } = play(imported, { type: 'RecordStepFailed', data: { step: 'exportToErp', attempt: 5, error: 'erp: down', final: true }, now })
    expect(events).toEqual([expect.objectContaining({ type: 'StepFailed' })])
    expect(giveUpTimers(orderId, state, events)).toEqual([])
    const failedAt = (events[0] as Extract<OrderEvent, { type: 'StepFailed' }>).data.failedAt
    expect(play([...imported, ...events], { type: 'GiveUpOrder', data: { step: 'exportToErp', failedAt }, now }).events).toEqual([])
    expect(state.status).toBe(ORDER_STATUS.PLACED)
  })
})
