/** Authentication and roles; each read from the variable named in its line (src/config/auth.ts). */
export interface AuthConfig {
  /**
   * `AUTH_FAILURES_PER_MINUTE`, default 30, 0 off: failed authentications (no, a wrong, an unknown
   * or a revoked credential) one client address may have per rate-limit window
   * (`RATE_LIMIT_WINDOW_SECONDS`) on one gateway. Beyond, until the window ends, its requests are
   * refused with 429 before any credential is looked up (src/api/auth/failures.ts).
   */
  readonly failuresPerWindow: number
  /** `CUSTOMER_MAX_BULK_SIZE`, default 10: most orders one placeOrders of a customer may carry (integrations and admins: `MAX_BULK_SIZE`). */
  readonly customerMaxBulkSize: number
}
