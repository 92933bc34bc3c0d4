import { IMPORT_STOCK } from '../../../orders/domain/events.ts'
import { builder } from '../builder.ts'

/** How placeOrders takes its orders (issue 15, part 4). */
export const PLACE_ORDERS_MODE = Object.freeze({ PLACE: 'PLACE', IMPORT: 'IMPORT' } as const)

export const PlaceOrdersModeEnum = builder.enumType('PlaceOrdersMode', {
  description: 'How placeOrders and placeOrdersFromFile take their orders.',
  values: {
    [PLACE_ORDERS_MODE.PLACE]: { description: 'New orders: the gateway numbers them and runs the whole chain (the default).' },
    [PLACE_ORDERS_MODE.IMPORT]: {
      description: 'Historical orders (integration and admin callers), in a bulk of kind IMPORT: each with its orderNumber and placedAt; ' +
        'payment, invoice, emails, shipment, label and tracking are SKIPPED with the reason, stock as `stock` says, the ERP export as `exportToErp` says.'
    }
  } as const
})

export const ImportStockEnum = builder.enumType('ImportStock', {
  description: 'What an import does with stock.',
  values: {
    [IMPORT_STOCK.SKIP]: { description: 'Nothing: the inventory is untouched, reserveStock is SKIPPED (the default).' },
    [IMPORT_STOCK.DEDUCT]: {
      description: 'The units leave the stock: reserved as a placement reserves them (all or nothing; a shortage fails the order, OUT_OF_STOCK), then shipped at once (`shipped` grows).'
    }
  } as const
})
