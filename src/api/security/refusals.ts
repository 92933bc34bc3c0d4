import { counter } from '../../platform/metrics.ts'

/** Requests, operations and connections refused by a limit, by limit: `requests` (the per-caller rate limit), `auth_failures` (too many failed authentications from one address). */
export const rateLimitRefusals = counter('rate_limit_refusals_total',
  'Requests, operations and WebSocket connections refused by a rate limit, by limit: requests (per caller), auth_failures (per client address)', ['limit'])
