import type { OperationKind } from '../../operations/accept.ts'
import { BULK_KIND } from '../../operations/domain/kind.ts'
import { importFieldsProblem } from '../domain/importOrder.ts'
import { validatePlaceOrder, type PlaceOrderInput } from '../domain/placeOrder.ts'
import { ORDER_TOPICS } from '../topics.ts'

/** Order placement: validated as a PlaceOrderInput; the order gets its number at acceptance. */
export const PLACE_ORDER: OperationKind = {
  topic: ORDER_TOPICS.placeOrder.queue,
  bulkKind: BULK_KIND.PLACEMENT,
  check: async (data: unknown) => {
    const validation = validatePlaceOrder(data as PlaceOrderInput)
    if (!validation.ok) return validation.message
    return importFieldsProblem(data as PlaceOrderInput)
  },
  orderingKey: () => null,
  numberOrder: true
}
