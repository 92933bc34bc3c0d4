/** The GraphQL documents the command-line client sends, and the shapes it reads back. */

export interface Counts {
  readonly open: number
  readonly complete: number
  readonly retriablyFailed: number
  readonly notRetriablyFailed: number
  readonly rejected: number
  readonly canceled: number
}

export interface BulkState {
  readonly uuid: string
  readonly status: 'NOT_STARTED' | 'IN_PROGRESS' | 'FINISHED_SUCCESSFULLY' | 'FINISHED_WITH_FAILURE' | 'CANCELED'
  readonly description: string | null
  readonly operationCount: number
  readonly progress: number
  readonly counts: Counts
  readonly createdAt: string
  readonly startedAt: string | null
  readonly finishedAt: string | null
  readonly resultsUrl: string
}

export interface AcceptAnswer {
  readonly bulkUuid: string
  readonly errors: boolean
  readonly requestItems?: ReadonlyArray<{ readonly id: number, readonly status: string, readonly orderNumber: string | null, readonly errorMessage: string | null }>
}

export interface OrderState {
  readonly number: string
  readonly status: 'PLACED' | 'COMPLETED' | 'CANCELED' | 'FAILED'
  readonly total: string
  readonly currency: string
  readonly steps: ReadonlyArray<{ readonly name: string, readonly status: string, readonly attempts: number, readonly lastError: string | null, readonly completedAt: string | null }>
}

const BULK_FIELDS = 'uuid status description operationCount progress counts { open complete retriablyFailed notRetriablyFailed rejected canceled } createdAt startedAt finishedAt resultsUrl'
const ORDER_FIELDS = 'number status total currency steps { name status attempts lastError completedAt }'
const ACCEPT_OPTIONS = '$description: String, $errorPolicy: BulkErrorPolicy, $idempotencyKey: String, $notifyUrl: String'
const ACCEPT_ARGS = 'description: $description, errorPolicy: $errorPolicy, idempotencyKey: $idempotencyKey, notifyUrl: $notifyUrl'

export const DOCUMENTS = Object.freeze({
  placeOrdersFromFile: `mutation ($file: Upload!, ${ACCEPT_OPTIONS}) { placeOrdersFromFile(file: $file, ${ACCEPT_ARGS}) { bulkUuid errors } }`,
  placeOrder: 'mutation ($input: PlaceOrderInput!, $idempotencyKey: String, $notifyUrl: String) { placeOrder(input: $input, idempotencyKey: $idempotencyKey, notifyUrl: $notifyUrl) { bulkUuid errors requestItems { id status orderNumber errorMessage } } }',
  bulk: `query ($uuid: ID!) { bulk(uuid: $uuid) { ${BULK_FIELDS} } }`,
  bulkStatus: `subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { ${BULK_FIELDS} } }`,
  orderProgress: `subscription ($number: String!) { orderProgress(number: $number) { ${ORDER_FIELDS} } }`,
  retryBulk: `mutation ($uuid: ID!, $errorCodes: [String!]) { retryBulk(uuid: $uuid, errorCodes: $errorCodes) { ${BULK_FIELDS} } }`,
  cancelBulk: `mutation ($uuid: ID!) { cancelBulk(uuid: $uuid) { ${BULK_FIELDS} } }`,
  acknowledgeBulk: `mutation ($uuid: ID!) { acknowledgeBulk(uuid: $uuid) { ${BULK_FIELDS} } }`
} as const)

/** Statuses after which a bulk changes no more (until retried). */
export function isFinished (bulk: BulkState): boolean {
  return bulk.status === 'FINISHED_SUCCESSFULLY' || bulk.status === 'FINISHED_WITH_FAILURE' || bulk.status === 'CANCELED'
}
