import SchemaBuilder from '@pothos/core'
import ComplexityPlugin from '@pothos/plugin-complexity'
import RelayPlugin from '@pothos/plugin-relay'
import ScopeAuthPlugin from '@pothos/plugin-scope-auth'
import { GraphQLError } from 'graphql'
import { can, CAPABILITY, viewerOf, type Principal, type Viewer } from '../../access/principal.ts'
import { forbiddenMessage } from './forbidden.ts'
import { REQUEST_ERROR_CODE } from '../../operations/errors.ts'
import ValidationPlugin from '@pothos/plugin-validation'
import type { Services } from './services.ts'

export interface Context {
  readonly services: Services
  /** Who is calling; null when the request carried no valid credentials (then nothing resolves). */
  readonly principal: Principal | null
  /** The request's `Idempotency-Key` header, if any (an `idempotencyKey` argument takes precedence). */
  readonly idempotencyKey: string | null
}

export const builder = new SchemaBuilder<{
  Context: Context
  // One scope per capability of src/access/principal.ts (docs/security.md has the matrix).
  AuthScopes: {
    /** Valid credentials: an API token or a JWT. */
    authenticated: boolean
    largeBulks: boolean
    uploads: boolean
    webhooks: boolean
    orderRetries: boolean
    imports: boolean
    admin: boolean
    /** A bulk of this many orders: up to CUSTOMER_MAX_BULK_SIZE, or any with largeBulks (MAX_BULK_SIZE is checked on accepting). */
    bulkOf: number
  }
  // Non-null unless a field says otherwise, as the contract reads.
  DefaultFieldNullability: false
  DefaultEdgesNullability: { list: false, items: false }
  DefaultNodeNullability: false
  Scalars: {
    Decimal: { Input: string, Output: string }
    DateTime: { Input: Date, Output: Date }
    JSON: { Input: unknown, Output: unknown }
    /** Whole numbers beyond Int's 32 bits, up to 2^53 - 1 (stock counts, event positions). */
    SafeInt: { Input: number, Output: number }
    Upload: { Input: File, Output: never }
  }
}>({
  // scope-auth first, so that no other plugin's wrapper runs before authorization (its README).
  plugins: [ScopeAuthPlugin, RelayPlugin, ValidationPlugin, ComplexityPlugin],
  // Each field's cost (src/api/graphql/complexity.ts). No limit here: src/api/security/queryCost.ts
  // checks it before execution, so that a refused query costs no statement, not even the rate limit's.
  complexity: { defaultComplexity: 1, defaultListMultiplier: 10, disabled: true },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (context) => ({
      authenticated: context.principal !== null,
      largeBulks: can(context.principal, CAPABILITY.LARGE_BULKS),
      uploads: can(context.principal, CAPABILITY.UPLOADS),
      webhooks: can(context.principal, CAPABILITY.WEBHOOKS),
      orderRetries: can(context.principal, CAPABILITY.ORDER_RETRIES),
      imports: can(context.principal, CAPABILITY.IMPORTS),
      admin: can(context.principal, CAPABILITY.ADMIN),
      bulkOf: (orders) => context.principal !== null &&
        (can(context.principal, CAPABILITY.LARGE_BULKS) || orders <= context.services.customerMaxBulkSize)
    }),
    unauthorizedError: (_parent, context, info, result) => context.principal === null
      ? new GraphQLError('authentication required: send an API token or a JWT as `Authorization: Bearer <token>`', {
        extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED, http: { status: 401 } }
      })
      : new GraphQLError(forbiddenMessage(context.principal, `${info.parentType.name}.${info.fieldName}`, result.failure, context.services.customerMaxBulkSize), {
        extensions: { code: REQUEST_ERROR_CODE.FORBIDDEN, http: { status: 403 } }
      })
  },
  defaultFieldNullability: false,
  relay: {
    // The connection's page size multiplies what is below it (pageCost); its edges list adds nothing more.
    edgesFieldOptions: { nullable: { list: false, items: false }, complexity: { field: 1, multiplier: 1 } },
    nodeFieldOptions: { nullable: false },
    clientMutationId: 'omit',
    cursorType: 'String',
    // Operations and bulks are fetched by their own ids; no global `node` lookup.
    nodeQueryOptions: false,
    nodesQueryOptions: false
  }
})

// Every operation needs credentials. What a caller sees is then scoped to its owner in SQL.
builder.queryType({ authScopes: { authenticated: true } })
builder.mutationType({ authScopes: { authenticated: true } })
builder.subscriptionType({ authScopes: { authenticated: true } })

/** Who is calling; the root types' scopes guarantee there is someone. */
export function principal (context: Context): Principal {
  if (context.principal === null) throw new GraphQLError('authentication required', { extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED } })
  return context.principal
}

/** Whose data this request may see. */
export function viewer (context: Context): Viewer {
  return viewerOf(principal(context))
}
