import type { InventoryItemView } from '../../../inventory/read.ts'
import { builder } from '../builder.ts'

export const InventoryItemRef = builder.objectRef<InventoryItemView>('InventoryItem').implement({
  description: "A SKU's stock (the inventory read model), created by its first adjustStock.",
  fields: (t) => ({
    sku: t.exposeString('sku'),
    onHand: t.field({ type: 'SafeInt', description: 'Units in the warehouse: available + reserved.', resolve: (item) => item.onHand }),
    available: t.field({ type: 'SafeInt', description: 'Units on hand that may still be reserved by orders.', resolve: (item) => item.available }),
    reserved: t.field({
      type: 'SafeInt',
      description: 'Units on hand held by placed orders: given back when one is canceled, shipped when its shipment is created.',
      resolve: (item) => item.reserved
    }),
    shipped: t.field({
      type: 'SafeInt',
      description: "Units that left the warehouse with orders' shipments. onHand + shipped is the sum of the stock adjustments.",
      resolve: (item) => item.shipped
    }),
    updatedAt: t.field({ type: 'DateTime', description: 'The time of the latest change.', resolve: (item) => item.updatedAt })
  })
})
