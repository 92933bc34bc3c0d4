import { z } from 'zod'
import { BULK_STATUS } from '../../operations/domain/status.ts'
import { MAGENTO_ITEM_STATUS } from './magento.ts'

/**
 * The shapes of the REST routes' answers and of their bodies other than orders
 * (src/api/rest/orderEntity.ts): what the OpenAPI description (openapi.ts) is generated from, and
 * the types the answers are built as. Field names and order follow Magento's.
 */

const operationStatus = z.number().int().min(1).max(6)
  .describe('1 COMPLETE, 2 RETRIABLY_FAILED (a retry is scheduled), 3 NOT_RETRIABLY_FAILED, 4 OPEN, 5 REJECTED, 6 CANCELED (MAGENTO_OPERATION_STATUS).')
const errorCode = z.number().int().nullable().describe('The number of the error code (docs/magento-rest.md), 0 for an unlisted one; null without an error.')
const magentoTime = z.string().describe('UTC, as Magento writes times: 2018-07-12 16:07:53')

export const RequestItemSchema = z.object({
  id: z.number().int().describe("The item's index in the request."),
  data_hash: z.string().describe('SHA-256 (hex) of the item as stored, serialized as JSON with keys sorted at every level.'),
  status: z.enum([MAGENTO_ITEM_STATUS.ACCEPTED, MAGENTO_ITEM_STATUS.REJECTED]),
  error_message: z.string().nullable().describe('Why the item was rejected, naming the field as it was sent.'),
  error_code: errorCode,
  extension_attributes: z.object({
    order_number: z.string().nullable().describe('The order the item is about: the number an accepted placement was given, or the order a cancellation or retry names.')
  }).optional().describe('On the order routes only.')
})

export const AsyncResponseSchema = z.object({
  bulk_uuid: z.uuid(),
  request_items: z.array(RequestItemSchema),
  errors: z.boolean().describe('True when any item was rejected.')
}).describe("Magento's AsyncResponseInterface: the answer given at once; the work happens later.")
export type AsyncResponseBody = z.infer<typeof AsyncResponseSchema>

export const OperationShortSchema = z.object({
  id: z.number().int().describe("The operation's id, unique across bulks and increasing in acceptance order."),
  status: operationStatus,
  result_message: z.string().nullable(),
  error_code: errorCode
})
export type OperationShort = z.infer<typeof OperationShortSchema>

export const OperationDetailedSchema = z.object({
  id: z.number().int().describe("The operation's id, unique across bulks and increasing in acceptance order."),
  bulk_uuid: z.uuid(),
  topic_name: z.string().describe('The queue it runs on: order.place, order.cancel, order.retry or inventory.adjust.'),
  serialized_data: z.string().describe('JSON of { entity_id: null, entity_link: "", meta_information }, meta_information being the JSON of the data stored (an accepted order as the gateway reads it; a rejected item as it was sent).'),
  result_serialized_data: z.string().nullable().describe('JSON of the result of a completed operation ({ orderNumber, status } for a placement).'),
  status: operationStatus,
  result_message: z.string().nullable(),
  error_code: errorCode,
  extension_attributes: z.object({
    start_time: magentoTime.describe("The bulk's start time."),
    operation_key: z.number().int().describe("The operation's index in its request: the request item's id."),
    operation_id: z.uuid().describe("The operation's id in the GraphQL API (operation(id), retryBulk(operationIds))."),
    error: z.string().nullable().describe('The name of the error code, such as INSUFFICIENT_STOCK.')
  })
})
export type OperationDetailed = z.infer<typeof OperationDetailedSchema>

const summary = {
  user_type: z.number().int().nullable().describe('Who started the bulk: 1 integration, 2 admin, 3 customer (null for bulks from before it was kept).'),
  bulk_id: z.uuid(),
  description: z.string().nullable(),
  start_time: magentoTime.describe('When the bulk was accepted.'),
  user_id: z.null().describe("Always null: callers are named, not numbered (the bulk's owner is in extension_attributes)."),
  operation_count: z.number().int(),
  extension_attributes: z.object({
    bulk_status: z.enum(Object.values(BULK_STATUS)).describe('Exact, unlike Magento #36911: NOT_STARTED, IN_PROGRESS, FINISHED_SUCCESSFULLY, FINISHED_WITH_FAILURE or CANCELED.'),
    finished_at: magentoTime.nullable().describe('When the last operation finished; null while any is open or waiting for a retry.'),
    owner: z.string()
  })
}

export const BulkStatusSchema = z.object({ operations_list: z.array(OperationShortSchema), ...summary })
  .describe("Magento's BulkStatusInterface: the bulk and each operation's status, in request order.")
export const DetailedBulkStatusSchema = z.object({ operations_list: z.array(OperationDetailedSchema), ...summary })
  .describe("Magento's DetailedBulkOperationsStatusInterface: as the short status, with each operation's topic, data and result.")
/** The summary fields of both statuses, without operations_list. */
export type BulkSummaryBody = Omit<z.infer<typeof BulkStatusSchema>, 'operations_list'>

export const OperationCountSchema = z.number().int().min(0).describe('How many operations of the bulk have the status.')

const searchFilter = z.object({
  field: z.string().describe('bulk_uuid, status, topic_name or start_time'),
  value: z.string().describe('For in and nin, values separated by commas.'),
  condition_type: z.string().optional().describe('eq (the default), neq, in, nin, gt, gteq, lt, lteq')
})

export const SearchCriteriaSchema = z.object({
  filter_groups: z.array(z.object({ filters: z.array(searchFilter) })).optional()
    .describe('Every group must hold; within a group, any filter.'),
  sort_orders: z.array(z.object({ field: z.string().describe('id or start_time: both are acceptance order'), direction: z.enum(['ASC', 'DESC']).optional() })).optional(),
  page_size: z.coerce.number().int().min(1).max(1000).optional().describe('1 to 1000; default 1000.'),
  current_page: z.coerce.number().int().min(1).max(1_000_000).optional().describe('From 1; default 1.')
}).describe("Magento's searchCriteria, sent as query parameters such as searchCriteria[filter_groups][0][filters][0][field]=status (camelCase names such as pageSize are read too).")
export type SearchCriteria = z.infer<typeof SearchCriteriaSchema>

export const OperationSearchResultsSchema = z.object({
  items: z.array(OperationDetailedSchema),
  search_criteria: SearchCriteriaSchema,
  total_count: z.number().int().describe('How many operations match, whatever the page.')
}).describe("Magento's OperationSearchResultsInterface: the operations of the caller's bulks that match.")
export type OperationSearchResults = z.infer<typeof OperationSearchResultsSchema>

export const ErrorSchema = z.object({
  message: z.string().describe('What went wrong; %name stands for parameters.name.'),
  parameters: z.union([z.record(z.string(), z.string()), z.array(z.string())])
}).describe("Magento's error body.")

export const OrderIdSchema = z.object({
  id: z.string().describe('The order number, such as ORD-00000042.')
}).describe('An order named by its number.')

export const StockAdjustmentBodySchema = z.object({
  adjustment: z.object({
    sku: z.string(),
    quantity: z.number().int().describe('A signed change of the available units (not an absolute quantity), other than 0.')
  })
}).describe('A change of one SKU\'s stock (admins only).')
