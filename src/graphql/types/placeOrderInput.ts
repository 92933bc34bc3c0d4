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
    shippingAddress: t.field({ type: AddressInput, required: true })
  })
})
