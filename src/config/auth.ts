import type { AuthConfig } from '../api/auth/options.ts'
import { integer, type Env } from './env.ts'

export function auth (env: Env): AuthConfig {
  return Object.freeze({
    failuresPerWindow: integer(env, 'AUTH_FAILURES_PER_MINUTE', 30, 0, 1_000_000),
    customerMaxBulkSize: integer(env, 'CUSTOMER_MAX_BULK_SIZE', 10, 1, 10_000_000)
  })
}
