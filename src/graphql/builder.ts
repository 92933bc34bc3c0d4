import SchemaBuilder from '@pothos/core'
import RelayPlugin from '@pothos/plugin-relay'
import ValidationPlugin from '@pothos/plugin-validation'
import type { Services } from './services.ts'

export interface Context {
  readonly services: Services
  /** The request's `Idempotency-Key` header, if any (an `idempotencyKey` argument takes precedence). */
  readonly idempotencyKey: string | null
}

export const builder = new SchemaBuilder<{
  Context: Context
  // Non-null unless a field says otherwise, as the contract reads.
  DefaultFieldNullability: false
  DefaultEdgesNullability: { list: false, items: false }
  DefaultNodeNullability: false
  Scalars: {
    Decimal: { Input: string, Output: string }
    DateTime: { Input: Date, Output: Date }
    JSON: { Input: unknown, Output: unknown }
    Upload: { Input: File, Output: never }
  }
}>({
  plugins: [RelayPlugin, ValidationPlugin],
  defaultFieldNullability: false,
  relay: {
    edgesFieldOptions: { nullable: { list: false, items: false } },
    nodeFieldOptions: { nullable: false },
    clientMutationId: 'omit',
    cursorType: 'String',
    // Operations and bulks are fetched by their own ids; no global `node` lookup.
    nodeQueryOptions: false,
    nodesQueryOptions: false
  }
})

builder.queryType({})
builder.mutationType({})
builder.subscriptionType({})
