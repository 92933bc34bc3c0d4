import { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth'
import type { Principal } from '../../access/principal.ts'

/** The scope a refusal is about: the first one that failed, however the scopes were combined. */
function failedScope (failure: AuthFailure): { scope: string, parameter: unknown } | undefined {
  switch (failure.kind) {
    case AuthScopeFailureType.AuthScope:
      return { scope: failure.scope, parameter: failure.parameter }
    case AuthScopeFailureType.AllAuthScopes:
    case AuthScopeFailureType.AnyAuthScopes:
      for (const inner of failure.failures) {
        const found = failedScope(inner)
        if (found !== undefined) return found
      }
      return undefined
    default:
      return undefined
  }
}

/**
 * What a caller refused by scope-auth is told (FORBIDDEN): which field, which capability its role
 * lacks, and what to do about it (docs/security.md#what-each-caller-may-do).
 */
export function forbiddenMessage (principal: Principal, field: string, failure: AuthFailure, customerMaxBulkSize: number): string {
  const failed = failedScope(failure)
  const who = `a ${principal.role} caller`
  switch (failed?.scope) {
    case 'bulkOf':
      return `${field}: ${who} may send at most ${customerMaxBulkSize} orders in one bulk (CUSTOMER_MAX_BULK_SIZE), got ${String(failed.parameter)}; larger bulks need an integration token`
    case 'uploads':
      return `${field}: ${who} may not upload files; JSONL uploads need an integration token`
    case 'webhooks':
      return `${field}: ${who} may not set notifyUrl; webhooks need an integration token`
    case 'orderRetries':
      return `${field}: ${who} may not retry an order's chain; that needs an integration token`
    case 'imports':
      return `${field}: ${who} may not import orders (mode: IMPORT); imports need an integration or admin token`
    case 'admin':
      return `${field}: only admins may do this`
    default:
      return `${field}: not allowed for ${who}`
  }
}
