import { builder } from '../builder.ts'

export const StockAdjustmentInput = builder.inputType('StockAdjustmentInput', {
  description: "A signed change of one SKU's stock. An invalid one is REJECTED with a message naming the field; the rest of its bulk goes on.",
  fields: (t) => ({
    sku: t.string({ required: true, description: 'Not empty, at most 500 characters; a SKU not yet known is created.' }),
    quantity: t.int({ required: true, description: 'Units to add (positive) or take away (negative); not 0, at most 1,000,000,000 either way. Taking more than is available fails with NEGATIVE_STOCK.' })
  })
})
