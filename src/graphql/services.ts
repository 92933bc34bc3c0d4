import type { BulkView, OperationPage } from '../bulks/read.ts'
import type { OperationRow } from '../bulks/queries.ts'
import type { AsyncResponse } from '../commands/acceptOrders.ts'
import type { PlaceOrderInput } from '../domain/order/placeOrder.ts'

/** What resolvers may ask of the application: commands on one side, queries on the other. No SQL here. */
export interface Services {
  placeOrders (inputs: readonly PlaceOrderInput[], description: string | null): Promise<AsyncResponse>
  bulk (uuid: string): Promise<BulkView | null>
  operations (bulkUuid: string, status: string | null, page: OperationPage): Promise<OperationRow[]>
  /** The bulk's state now, then each change, until it has finished. */
  watchBulk (uuid: string): AsyncIterable<BulkView>
}
