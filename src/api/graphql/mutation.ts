import { GraphQLError } from 'graphql'
import { credentialOf } from '../../access/principal.ts'
import { z } from 'zod'
import { PLACE_ORDER } from '../../orders/requests/placeOrder.ts'
import { BULK_ERROR_POLICY, type AcceptRequest, type AsyncResponse, type Candidate, type OperationKind } from '../../operations/accept.ts'
import { ADJUST_STOCK } from '../../inventory/requests/adjustStock.ts'
import { CANCEL_ORDER } from '../../orders/requests/cancelOrder.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from '../../operations/errors.ts'
import { RETRY_ORDER } from '../../orders/requests/retryOrder.ts'
import { builder, principal, viewer, type Context } from './builder.ts'
import { orderNumberArg, storableString, uuidArg } from './query.ts'
import { idempotencyKeySchema } from '../idempotencyKey.ts'
import { AsyncResponseRef } from './types/asyncResponse.ts'
import { BulkRef } from './types/bulk.ts'
import { PlaceOrderInput } from './types/placeOrderInput.ts'
import { ImportStockEnum, PLACE_ORDERS_MODE, PlaceOrdersModeEnum } from './types/placeOrdersMode.ts'
import { importOrders, withImportOptions } from '../../orders/requests/importOrder.ts'
import { IMPORT_STOCK, type ImportStock } from '../../orders/domain/events.ts'
import { StockAdjustmentInput } from './types/stockAdjustmentInput.ts'

export const BulkErrorPolicyEnum = builder.enumType('BulkErrorPolicy', {
  description: 'What happens to a bulk with invalid items.',
  values: {
    REJECT_FAILED_ROWS: { value: BULK_ERROR_POLICY.REJECT_FAILED_ROWS, description: 'Accept the valid items; reject the invalid ones (the default).' },
    REJECT_EVERYTHING: { value: BULK_ERROR_POLICY.REJECT_EVERYTHING, description: 'One invalid item and nothing is written or enqueued; every item is reported.' }
  }
})

export const idempotencyKeyArg = idempotencyKeySchema
export const notifyUrlArg = storableString(2048).refine((value) => /^https?:\/\//.test(value) && URL.canParse(value), 'must be an http(s) URL')
export const descriptionArg = storableString(1000)
export const notAfterArg = z.date().refine((date) => date.getTime() > Date.now(), 'must be in the future')
export const NOT_AFTER_DESCRIPTION = 'A deadline: operations not begun by then end EXPIRED and are never run (nor retried after it). Must be in the future; none by default.'

/** Runs a command; a request the gateway refuses becomes a GraphQL error with a stable code. Nothing was written. */
async function command<T> (work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof RequestRejectedError) throw new GraphQLError(error.message, { extensions: { code: error.code } })
    throw error
  }
}

interface AcceptArgs {
  readonly description?: string | null
  readonly errorPolicy?: AcceptRequest['errorPolicy'] | null
  readonly idempotencyKey?: string | null
  readonly notifyUrl?: string | null
  readonly notAfter?: Date | null
}

export function accept (context: Context, kind: OperationKind, items: AcceptRequest['items'], args: AcceptArgs): Promise<AsyncResponse> {
  const headerKey = context.idempotencyKey
  if (headerKey !== null && !idempotencyKeyArg.safeParse(headerKey).success) {
    throw new GraphQLError('the Idempotency-Key header must be 1 to 255 printable ASCII characters', { extensions: { code: REQUEST_ERROR_CODE.BAD_USER_INPUT } })
  }
  return command(async () => await context.services.placeOrders({
    kind,
    owner: principal(context).owner,
    ownerRole: principal(context).role,
    createdBy: credentialOf(principal(context)),
    viewerOwner: viewer(context).owner,
    items,
    description: args.description ?? null,
    errorPolicy: args.errorPolicy ?? BULK_ERROR_POLICY.REJECT_FAILED_ROWS,
    idempotencyKey: args.idempotencyKey ?? headerKey,
    notifyUrl: args.notifyUrl ?? null,
    notAfter: args.notAfter ?? null
  }))
}

/**
 * An answer about items that name no order. acceptOperations reports each item's ordering key as its
 * orderNumber, and a stock adjustment's ordering key is its SKU (`sku:<sku>`), not an order.
 */
function withoutOrderNumbers (response: AsyncResponse): AsyncResponse {
  return { ...response, requestItems: response.requestItems?.map(item => ({ ...item, orderNumber: null })) ?? null }
}

function * orderNumbers (numbers: readonly string[]): Generator<Candidate> {
  for (const orderNumber of numbers) yield { data: { orderNumber } }
}

function * fromInput (inputs: readonly unknown[]): Generator<Candidate> {
  for (const data of inputs) yield { data }
}

/** Orders as sent, an import's placedAt (a Date from the DateTime scalar) as the RFC 3339 text a JSONL line carries. */
function * orderInputs (inputs: ReadonlyArray<{ readonly placedAt?: Date | null }>): Generator<Candidate> {
  for (const input of inputs) yield { data: input.placedAt == null ? input : { ...input, placedAt: input.placedAt.toISOString() } }
}

interface ModeArgs {
  readonly mode?: string | null
  readonly stock?: ImportStock | null
  readonly exportToErp?: boolean | null
}

/**
 * placeOrders and placeOrdersFromFile in their mode: new orders, or an import of historical ones
 * (issue 15, part 4), whose options ride with each item. Options of an import without mode: IMPORT
 * are refused whole: nothing is written.
 */
async function placeInMode (context: Context, items: Iterable<Candidate> | AsyncIterable<Candidate>, args: AcceptArgs & ModeArgs): Promise<AsyncResponse> {
  if (args.mode !== PLACE_ORDERS_MODE.IMPORT) {
    if (args.stock != null || args.exportToErp != null) {
      throw new GraphQLError('stock and exportToErp are taken only with mode: IMPORT', { extensions: { code: REQUEST_ERROR_CODE.BAD_USER_INPUT } })
    }
    return await accept(context, PLACE_ORDER, items, args)
  }
  const options = { stock: args.stock ?? IMPORT_STOCK.SKIP, exportToErp: args.exportToErp ?? true }
  return await accept(context, importOrders(), withImportOptions(items, options), args)
}

/** The arguments of an import (placeOrders, placeOrdersFromFile). */
function modeArgs (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) {
  return {
    mode: t.arg({ type: PlaceOrdersModeEnum, description: 'PLACE (the default) or IMPORT: historical orders, with their numbers and dates (integration and admin callers).' }),
    stock: t.arg({ type: ImportStockEnum, description: 'mode: IMPORT only: SKIP (the default) leaves the inventory untouched; DEDUCT takes the units out.' }),
    exportToErp: t.arg.boolean({ description: 'mode: IMPORT only: whether the imported orders are exported to the ERP (default true); false: exportToErp is SKIPPED.' })
  }
}

/** The scopes of placeOrders and placeOrdersFromFile: an import needs the imports capability. */
function importing (mode: string | null | undefined): { imports?: true } {
  return mode === PLACE_ORDERS_MODE.IMPORT ? { imports: true } : {}
}

interface AcceptScopes { readonly $all: { readonly authenticated: true, readonly uploads?: true, readonly orderRetries?: true, readonly imports?: true, readonly bulkOf?: number, readonly webhooks?: true } }

/**
 * The scopes an accepting mutation needs (docs/security.md#what-each-caller-may-do): credentials,
 * those it names, and webhooks when it sets notifyUrl (all of them).
 */
export function accepting (notifyUrl: string | null | undefined, scopes: Omit<AcceptScopes['$all'], 'authenticated' | 'webhooks'> = {}): AcceptScopes {
  return { $all: { authenticated: true, ...scopes, ...(notifyUrl !== null && notifyUrl !== undefined ? { webhooks: true } : {}) } }
}

/** The accepting mutations: each answers at once with a bulk uuid and the items' statuses. */
builder.mutationFields((t) => {
  const common = {
    idempotencyKey: t.arg.string({
      description: 'The same key with the same payload returns the first response and enqueues nothing (also sent as the Idempotency-Key header). Kept at least 24 h.',
      validate: idempotencyKeyArg
    }),
    notifyUrl: t.arg.string({
      description: "POSTed a summary when the bulk finishes, signed with the caller's webhook secret (Standard Webhooks; see rotateWebhookSecret). Integration and admin callers.",
      validate: notifyUrlArg
    }),
    notAfter: t.arg({ type: 'DateTime', description: NOT_AFTER_DESCRIPTION, validate: notAfterArg })
  }
  return {
    placeOrder: t.field({
      type: AsyncResponseRef,
      description: 'Accepts one order at once as a bulk of one; poll `bulk` or subscribe to `bulkStatus` for its outcome.',
      args: { input: t.arg({ type: PlaceOrderInput, required: true }), ...common },
      authScopes: (_, args) => accepting(args.notifyUrl),
      resolve: async (_, { input, ...args }, context) => await accept(context, PLACE_ORDER, orderInputs([input]), args)
    }),
    placeOrders: t.field({
      type: AsyncResponseRef,
      description: 'Accepts many orders at once as one bulk: valid ones are enqueued, invalid ones REJECTED (see errorPolicy). ' +
        'A customer may send up to CUSTOMER_MAX_BULK_SIZE orders, integrations and admins up to MAX_BULK_SIZE.',
      args: {
        input: t.arg({ type: [PlaceOrderInput], required: true }),
        description: t.arg.string({ validate: descriptionArg }),
        errorPolicy: t.arg({ type: BulkErrorPolicyEnum }),
        ...modeArgs(t),
        ...common
      },
      authScopes: (_, args) => accepting(args.notifyUrl, { bulkOf: args.input.length, ...importing(args.mode) }),
      resolve: async (_, { input, ...args }, context) => await placeInMode(context, orderInputs(input), args)
    }),
    placeOrdersFromFile: t.field({
      type: AsyncResponseRef,
      description: 'Accepts a JSONL file (one PlaceOrderInput a line), sent with the GraphQL multipart request spec and read as it streams: for bulks larger than a JSON body should carry. Item ids are the indexes of the non-empty lines. Integration and admin callers.',
      args: {
        file: t.arg({ type: 'Upload', required: true }),
        description: t.arg.string({ validate: descriptionArg }),
        errorPolicy: t.arg({ type: BulkErrorPolicyEnum }),
        ...modeArgs(t),
        ...common
      },
      authScopes: (_, args) => accepting(args.notifyUrl, { uploads: true, ...importing(args.mode) }),
      resolve: async (_, { file, ...args }, context) => await placeInMode(context, context.services.orderLines(file.stream() as unknown as AsyncIterable<Uint8Array>), args)
    }),
    cancelOrder: t.field({
      type: AsyncResponseRef,
      description: "Cancels an order, asynchronously, as a bulk of one. It runs after the order's placement and anything else accepted before it on that order (per-order ordering), so it never overtakes them; an order placed and not yet processed can be canceled at once by the number placeOrder answered with.",
      args: { number: t.arg.string({ required: true, validate: orderNumberArg }), ...common },
      authScopes: (_, args) => accepting(args.notifyUrl),
      resolve: async (_, { number, ...args }, context) => await accept(context, CANCEL_ORDER, fromInput([{ orderNumber: number }]), args)
    }),
    retryOrder: t.field({
      type: AsyncResponseRef,
      description: 'Resumes an order whose chain stopped at a step that gave up (its retries used up, or a permanent error; the step shows FAILED), once the outside system is fixed: asynchronously, as a bulk of one, after anything accepted before it on that order. ' +
        'Each given-up step (or compensation of a canceled order) gets a new job and shows PENDING again, its attempts kept; the operation\'s result is `{ orderNumber, retried }`, the steps enqueued (none when nothing had given up). ' +
        'A COMPLETED order fails with ORDER_COMPLETED, one whose placement failed with ORDER_FAILED. Integration and admin callers.',
      args: { number: t.arg.string({ required: true, validate: orderNumberArg }), ...common },
      authScopes: (_, args) => accepting(args.notifyUrl, { orderRetries: true }),
      resolve: async (_, { number, ...args }, context) => await accept(context, RETRY_ORDER, fromInput([{ orderNumber: number }]), args)
    }),
    adjustStock: t.field({
      type: AsyncResponseRef,
      authScopes: { admin: true },
      description: "Changes SKUs' stock (admins only), asynchronously, as one bulk: one operation per item; a SKU not yet known is created. " +
        'Adjustments of one SKU run in the order they were accepted; one that would take the available units below 0 fails with NEGATIVE_STOCK and changes nothing.',
      args: {
        input: t.arg({ type: [StockAdjustmentInput], required: true }),
        description: t.arg.string({ validate: descriptionArg }),
        errorPolicy: t.arg({ type: BulkErrorPolicyEnum }),
        ...common
      },
      resolve: async (_, { input, ...args }, context) => withoutOrderNumbers(await accept(context, ADJUST_STOCK, fromInput(input), args))
    })
  }
})

/** cancelOrder and retryOrder for many orders: one bulk of N (Magento's /async/bulk beside every write route). */
builder.mutationFields((t) => {
  const common = {
    description: t.arg.string({ validate: descriptionArg }),
    errorPolicy: t.arg({ type: BulkErrorPolicyEnum }),
    idempotencyKey: t.arg.string({ description: 'As for placeOrders.', validate: idempotencyKeyArg }),
    notifyUrl: t.arg.string({ description: 'As for placeOrders (integration and admin callers).', validate: notifyUrlArg }),
    notAfter: t.arg({ type: 'DateTime', description: NOT_AFTER_DESCRIPTION, validate: notAfterArg }),
    numbers: t.arg.stringList({ required: true, description: 'Order numbers, one operation each.', validate: z.array(orderNumberArg) })
  }
  return {
    cancelOrders: t.field({
      type: AsyncResponseRef,
      description: 'cancelOrder for many orders as one bulk: one operation per number, each run as cancelOrder runs (after anything accepted before it on its order); unknown numbers are REJECTED (see errorPolicy).',
      args: common,
      authScopes: (_, args) => accepting(args.notifyUrl, { bulkOf: args.numbers.length }),
      resolve: async (_, { numbers, ...args }, context) => await accept(context, CANCEL_ORDER, orderNumbers(numbers), args)
    }),
    retryOrders: t.field({
      type: AsyncResponseRef,
      description: 'retryOrder for many orders as one bulk: one operation per number, each run as retryOrder runs; unknown numbers are REJECTED (see errorPolicy).',
      args: common,
      authScopes: (_, args) => accepting(args.notifyUrl, { orderRetries: true, bulkOf: args.numbers.length }),
      resolve: async (_, { numbers, ...args }, context) => await accept(context, RETRY_ORDER, orderNumbers(numbers), args)
    })
  }
})

/** Magento's bulk management: the caller's own bulks, once accepted. */
builder.mutationFields((t) => ({
  retryBulk: t.field({
    type: BulkRef,
    description: 'Enqueues the failed operations again (RETRIABLY_FAILED, NOT_RETRIABLY_FAILED; never REJECTED, COMPLETE or CANCELED), optionally only those with these error codes or ids.',
    args: {
      uuid: t.arg.id({ required: true, validate: uuidArg }),
      errorCodes: t.arg.stringList({ validate: z.array(storableString(100)) }),
      operationIds: t.arg.idList({ validate: z.array(uuidArg) })
    },
    resolve: async (_, { uuid, errorCodes, operationIds }, context) =>
      await command(async () => await context.services.retryBulk(viewer(context), String(uuid), errorCodes ?? null, operationIds?.map(String) ?? null))
  }),
  cancelBulk: t.field({
    type: BulkRef,
    description: 'Cancels the operations not yet begun (they become CANCELED and their jobs are cancelled); running ones finish. Idempotent.',
    args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
    resolve: async (_, { uuid }, context) => await command(async () => await context.services.cancelBulk(viewer(context), String(uuid)))
  }),
  acknowledgeBulk: t.field({
    type: BulkRef,
    description: 'Dismisses a finished bulk: `bulks(acknowledged: false)` no longer lists it.',
    args: { uuid: t.arg.id({ required: true, validate: uuidArg }) },
    resolve: async (_, { uuid }, context) => await command(async () => await context.services.acknowledgeBulk(viewer(context), String(uuid)))
  })
}))
