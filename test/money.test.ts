import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, order, startGateway, waitForBulk, type TestGateway } from './helpers/gateway.ts'
import { upload } from './helpers/upload.ts'

// Issue #12, item 4: amounts the payment side cannot hold. Orders up to a total of 10^16 were
// accepted while the payment tables hold less than 10^15: the capture failed for good and the stock
// stayed reserved. A zero total, captured then canceled, tried a refund of 0 against CHECK (amount > 0).

const PLACE = `mutation ($input: [PlaceOrderInput!]!) {
  placeOrders(input: $input) { bulkUuid requestItems { status orderNumber errorMessage } }
}`
const CANCEL = 'mutation ($number: String!) { cancelOrder(number: $number) { bulkUuid errors } }'

/** Workers on, with the carrier always failing: a placed order stays PLACED after its capture, so it can still be canceled. */
let gateway: TestGateway
beforeAll(async () => { gateway = await startGateway({ env: { FAULT_RATES: 'carrier=1' } }) })
afterAll(async () => { await gateway?.stop() })

async function view (number: string): Promise<any> {
  const { rows } = await gateway.sql.query('SELECT view FROM orders WHERE order_number = $1', [number])
  return rows[0]?.view
}

function step (orderView: any, name: string): any {
  return orderView?.steps.find((s: any) => s.name === name)
}

async function stepDone (number: string, name: string): Promise<any> {
  return await eventually(async () => step(await view(number), name)?.status === 'DONE' ? await view(number) : undefined, 60_000, `${name} of ${number}`)
}

async function charge (number: string): Promise<{ amount: string, outcome: string } | undefined> {
  const { rows } = await gateway.sql.query('SELECT amount::text, outcome FROM payment_simulator_charge WHERE order_number = $1', [number])
  return rows[0]
}

describe('one money bound, at acceptance', () => {
  it('rejects an order whose total is 10^15 or more, and captures the largest total below it', async () => {
    const { data, errors } = await gateway.gql(PLACE, {
      input: [
        order({ items: [{ sku: 'DEMO-0001', quantity: 10_000, unitPrice: '100000000000' }] }),
        order({ items: [{ sku: 'DEMO-0003', quantity: 1, unitPrice: '1000000000000000' }] }),
        order({ items: [{ sku: 'DEMO-0003', quantity: 1, unitPrice: '999999999999999.9999' }] })
      ]
    })
    expect(errors).toBeUndefined()
    const [tooMuch, tooDear, largest] = data.placeOrders.requestItems
    expect(tooMuch).toMatchObject({ status: 'REJECTED', errorMessage: 'the order total must be less than 10^15, got 1000000000000000.0000' })
    expect(tooDear).toMatchObject({ status: 'REJECTED', errorMessage: 'items[0].unitPrice must be less than 10^15, got "1000000000000000"' })
    expect(largest.status).toBe('ACCEPTED')
    await stepDone(largest.orderNumber, 'capturePayment')
    expect(await charge(largest.orderNumber)).toEqual({ amount: '999999999999999.9999', outcome: 'CAPTURED' })
  })

  it("refuses a unit price longer than 40 characters before parsing it: a JSONL line's item, or a GraphQL variable", async () => {
    const line = JSON.stringify(order({ items: [{ sku: 'DEMO-0001', quantity: 1, unitPrice: '9'.repeat(100_000) }] }))
    const { body } = await upload(gateway, line + '\n')
    expect(body.data.placeOrdersFromFile.requestItems[0]).toMatchObject({
      status: 'REJECTED', errorMessage: 'line 1: items[0].unitPrice must be a decimal of at most 40 characters written as a string, such as "19.99"'
    })
    const { rows: before } = await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')
    const variable = await gateway.gql(PLACE, { input: [order({ items: [{ sku: 'DEMO-0001', quantity: 1, unitPrice: '9'.repeat(41) }] })] })
    expect(variable.errors?.[0]?.message).toContain('Decimal must be a string of digits')
    const { rows: after } = await gateway.sql.query('SELECT count(*)::int AS n FROM bulk')
    expect(after[0].n).toBe(before[0].n)
  })
})

describe('a zero total', () => {
  it('is captured, and canceled afterwards without a refund: nothing was taken', async () => {
    const { data } = await gateway.gql(PLACE, { input: [order({ items: [{ sku: 'DEMO-0004', quantity: 1, unitPrice: '0' }] })] })
    const { orderNumber } = data.placeOrders.requestItems[0]
    await stepDone(orderNumber, 'capturePayment')
    expect(await charge(orderNumber)).toEqual({ amount: '0.0000', outcome: 'CAPTURED' })

    const canceled = await gateway.gql(CANCEL, { number: orderNumber })
    expect((await waitForBulk(gateway, canceled.data.cancelOrder.bulkUuid)).status).toBe('FINISHED_SUCCESSFULLY')
    await stepDone(orderNumber, 'releaseStock')
    const settled = await stepDone(orderNumber, 'emailCancellation')
    expect(settled).toMatchObject({ status: 'CANCELED', total: '0.0000' })
    expect(step(settled, 'refundPayment')).toBeUndefined()
    expect(settled.steps.filter((s: any) => s.status === 'FAILED')).toEqual([])
    const { rows } = await gateway.sql.query('SELECT count(*)::int AS n FROM payment_simulator_refund')
    expect(rows[0].n).toBe(0)
  })
})
