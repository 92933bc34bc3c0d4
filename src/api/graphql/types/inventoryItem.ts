import type { InventoryItemView } from '../../../inventory/read.ts'
import { builder } from '../builder.ts'

export const InventoryItemRef = builder.objectRef<InventoryItemView>('InventoryItem').implement({
  description: "A SKU's stock (the inventory read model), created by its first adjustStock.",
  fields: (t) => ({
    sku: t.exposeString('sku'),
    available: t.field({ type: 'SafeInt', description: 'Units that may still be reserved by orders.', resolve: (item) => item.available }),
    reserved: t.field({ type: 'SafeInt', description: 'Units held by placed orders (given back when one is canceled).', resolve: (item) => item.reserved }),
    updatedAt: t.field({ type: 'DateTime', description: 'The time of the latest change.', resolve: (item) => item.updatedAt })
  })
})
