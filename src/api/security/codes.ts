/**
 * `extensions.code` of the errors the limits answer with: stable, so that clients can branch on
 * them (the messages say the numbers). Yoga's own request errors keep its codes (`BAD_REQUEST`,
 * `REQUEST_ENTITY_TOO_LARGE`); unexpected errors stay masked as `INTERNAL_SERVER_ERROR`.
 */
export const LIMIT_ERROR_CODE = Object.freeze({
  /** The query text is not GraphQL. */
  PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** The query does not fit the schema (unknown field, wrong argument type, …). */
  VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  /** `__schema` / `__type` asked while introspection is off. */
  INTROSPECTION_DISABLED: 'INTROSPECTION_DISABLED',
  /** A request a browser could send cross-site without a preflight, lacking the preflight header. */
  CSRF_HEADER_MISSING: 'CSRF_HEADER_MISSING',
  /** Yoga's code for a body over the limit (HTTP 413), kept as it is. */
  REQUEST_TOO_LARGE: 'REQUEST_ENTITY_TOO_LARGE',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** A subscription sent over HTTP (Server-Sent Events): subscriptions run over WebSocket only. */
  SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY: 'SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY',
  /** Over the caller's rate limit; `extensions.retryAfter` says in how many seconds to try again. */
  RATE_LIMITED: 'RATE_LIMITED'
} as const)
export type LimitErrorCode = (typeof LIMIT_ERROR_CODE)[keyof typeof LIMIT_ERROR_CODE]

/**
 * Close codes of WebSockets the limits end, besides graphql-ws's own `CloseCode` (4400…4504).
 * 4000–4999 are for applications (RFC 6455 §7.4.2); graphql-ws leaves 4410 unused.
 */
export const WS_CLOSE_CODE = Object.freeze({
  /** RFC 6455: a message larger than `WS_MAX_MESSAGE_BYTES`; sent by `ws` itself. */
  MESSAGE_TOO_BIG: 1009,
  /** No operation on the socket for `WS_IDLE_TIMEOUT_SECONDS`. */
  IDLE_TIMEOUT: 4410
} as const)
