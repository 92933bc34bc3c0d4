import type { PgBoss } from 'pg-boss'
import type pg from 'pg'
import type { TokenCache } from './access/tokenCache.ts'
import { createApiToken, listApiTokens, revokeApiTokenById } from './access/tokens.ts'
import type { Services } from './api/graphql/services.ts'
import type { RestServices } from './api/rest/services.ts'
import { findInventoryItem } from './inventory/read.ts'
import { acceptOperations } from './operations/accept.ts'
import type { FairnessOptions } from './operations/fairness.ts'
import type { GroupCommit } from './operations/groupCommit.ts'
import { acknowledgeBulk, cancelBulk, retryBulk } from './operations/control.ts'
import { isFinished } from './operations/domain/status.ts'
import {
  findBulk, findBulkWithOperations, findBulkWithOwnerRole, findOperation, listBulks, listOperations, sameBulkView, searchOperations, type BulkView
} from './operations/read.ts'
import { resultsUrl } from './operations/results.ts'
import { listRequestItems } from './operations/requestItems.ts'
import { exportPath, readExportProgress } from './operations/exports.ts'
import type { BulkStatusFeed } from './operations/statusFeed.ts'
import { listNotifications } from './operations/webhooks/read.ts'
import { rotateWebhookSecret } from './operations/webhooks/secrets.ts'
import type { OrderProgressFeed } from './orders/progressFeed.ts'
import { placeOrderLines, type OrderLinesOptions } from './orders/requests/jsonl.ts'
import { findOrder, findOrderId, listOrders, readOrderEvents } from './orders/read.ts'

export interface ServiceDeps {
  readonly pool: pg.Pool
  readonly boss: PgBoss
  /** `MAX_BULK_SIZE`. */
  readonly maxBulkSize: number
  /** Per-owner limits and priorities (OWNER_MAX_OPEN_BULKS, SINGLE_OPERATIONS_FIRST). */
  readonly fairness: FairnessOptions
  /** `CUSTOMER_MAX_BULK_SIZE`. */
  readonly customerMaxBulkSize: number
  /** `MAX_JSONL_LINE_BYTES` and `UPLOAD_TIMEOUT_SECONDS`. */
  readonly uploads: OrderLinesOptions
  /** Where concurrent single operations share one transaction (src/operations/groupCommit.ts). */
  readonly groupCommit: GroupCommit
  /** `BULK_CHUNK_SIZE`: operations of a bulk one job carries. */
  readonly chunkSize: number
  readonly tokens: TokenCache
  readonly bulkFeed: BulkStatusFeed<BulkView>
  readonly orderFeed: OrderProgressFeed
  /** The gateway's public address, known once it listens (PUBLIC_URL, else the bound port). */
  readonly publicUrl: () => string
}

/** What the GraphQL resolvers may ask of the features: each a call into the feature that owns it. */
export function createServices (deps: ServiceDeps): Services {
  const { pool, boss } = deps
  const control = { pool, boss }
  return {
    customerMaxBulkSize: deps.customerMaxBulkSize,
    placeOrders: async (request) => await acceptOperations({ pool, boss, maxBulkSize: deps.maxBulkSize, fairness: deps.fairness, groupCommit: deps.groupCommit, chunkSize: deps.chunkSize }, request),
    orderLines: (file) => placeOrderLines(file, deps.uploads),
    retryBulk: async (viewer, uuid, errorCodes, operationIds) => await retryBulk(control, viewer, uuid, errorCodes, operationIds),
    cancelBulk: async (viewer, uuid) => await cancelBulk(control, viewer, uuid),
    acknowledgeBulk: async (viewer, uuid) => await acknowledgeBulk(control, viewer, uuid),
    createApiToken: async (owner, role) => await createApiToken(pool, owner, role),
    revokeApiToken: async (id) => {
      const revoked = await revokeApiTokenById(pool, id)
      // At once here; the other gateways hear it from the NOTIFY of the update.
      deps.tokens.changed(id)
      return revoked
    },
    rotateWebhookSecret: async (owner, previousValidHours) => await rotateWebhookSecret(pool, owner, previousValidHours),
    bulk: async (viewer, uuid) => await findBulk(pool, viewer, uuid),
    bulks: async (viewer, filter, page) => await listBulks(pool, viewer, filter, page),
    apiTokens: async () => await listApiTokens(pool),
    operations: async (bulkUuid, filter, page) => await listOperations(pool, bulkUuid, filter, page),
    requestItems: async (response, page) => await listRequestItems(pool, response, page),
    operation: async (viewer, id) => await findOperation(pool, viewer, id),
    nextRetryAt: async (operation) => {
      if (!operation.job_id) return null
      const job = await boss.getJobById(operation.topic, operation.job_id)
      return job?.state === 'retry' ? job.startAfter : null
    },
    watchBulk: (uuid) => deps.bulkFeed.watch(uuid, (view) => isFinished(view.status), sameBulkView),
    resultsUrl: (bulkUuid) => resultsUrl(deps.publicUrl(), bulkUuid),
    exportUrl: (bulkUuid) => deps.publicUrl() + exportPath(bulkUuid),
    exportProgress: async (bulkUuid) => await readExportProgress(pool, bulkUuid),
    bulkNotifications: async (bulkUuid) => await listNotifications(pool, bulkUuid),
    order: async (viewer, orderNumber) => await findOrder(pool, viewer, orderNumber),
    orders: async (viewer, status, page) => await listOrders(pool, viewer, status, page),
    orderEvents: async (orderId) => await readOrderEvents(pool, orderId),
    orderId: async (viewer, orderNumber) => await findOrderId(pool, viewer, orderNumber),
    watchOrder: (orderId) => deps.orderFeed.watch(orderId),
    inventory: async (sku) => await findInventoryItem(pool, sku)
  }
}

/** What the REST routes (src/api/rest/) may ask of the features. */
export function createRestServices (deps: Pick<ServiceDeps, 'pool' | 'boss' | 'maxBulkSize' | 'fairness' | 'groupCommit' | 'chunkSize'>): RestServices {
  const { pool, boss } = deps
  return {
    accept: async (request) => await acceptOperations({ pool, boss, maxBulkSize: deps.maxBulkSize, fairness: deps.fairness, groupCommit: deps.groupCommit, chunkSize: deps.chunkSize }, request),
    requestItems: async (response) => await listRequestItems(pool, response, { offset: 0, limit: null }),
    bulk: async (viewer, uuid) => await findBulkWithOwnerRole(pool, viewer, uuid),
    bulkWithOperations: async (viewer, uuid, limit) => await findBulkWithOperations(pool, viewer, uuid, limit),
    operations: async (bulkUuid, filter, page) => await listOperations(pool, bulkUuid, filter, page),
    searchOperations: async (viewer, search) => await searchOperations(pool, viewer, search)
  }
}
