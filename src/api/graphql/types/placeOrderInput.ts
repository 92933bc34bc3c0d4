import { builder } from '../builder.ts'

export const OrderItemInput = builder.inputType('OrderItemInput', {
  fields: (t) => ({
    sku: t.string({ required: true }),
    quantity: t.int({ required: true, description: 'Greater than 0.' }),
    unitPrice: t.field({ type: 'Decimal', required: true, description: '0 or more, at most 4 decimals.' })
  })
})

export const AddressInput = builder.inputType('AddressInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    street: t.string({ required: true }),
    city: t.string({ required: true }),
    postcode: t.string({ required: true }),
    country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 code, such as DE.' })
  })
})

export const PlaceOrderInput = builder.inputType('PlaceOrderInput', {
  description: 'One order. An invalid one is REJECTED with a message naming the field; the rest of its bulk goes on.',
  fields: (t) => ({
    customerEmail: t.string({ required: true }),
    currency: t.string({ required: true, description: 'ISO 4217 code, such as EUR.' }),
    items: t.field({ type: [OrderItemInput], required: true, description: 'At least one.' }),
    shippingAddress: t.field({ type: AddressInput, required: true }),
    // No defaultValue: an order sent without it keeps the data (and dataHash) it was sent with; the default applies at placement.
    paymentToken: t.string({
      description: 'How the order is paid: a payment provider token, `tok_` and up to 60 letters, digits or underscores; default `tok_visa`. ' +
        "The payment simulator's test tokens: `tok_visa` captures; `tok_chargeDeclined` is declined (the order is CANCELED and its " +
        'compensations run); `tok_unavailable` fails transiently twice (capturePayment RETRYING), then captures.'
    }),
    orderNumber: t.string({
      description: 'mode: IMPORT only (and required there): the number the order had, 1 to 40 letters, digits or `. _ / # -`, not of the form ORD-00000042 (the gateway\'s own). ' +
        'Unique: a number taken, or given twice in one request, is REJECTED.'
    }),
    placedAt: t.field({ type: 'DateTime', description: 'mode: IMPORT only (and required there): when the order was placed; not in the future. Stored as the order\'s placedAt.' })
  })
})
