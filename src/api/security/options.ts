/** Limits on what one client may send; each read from the variable named in its line. */
export interface LimitsConfig {
  /**
   * Limits on one GraphQL document (GraphQL Armor), counted on the query text alone, never on
   * variables: `GRAPHQL_MAX_DEPTH` (default 10), `GRAPHQL_MAX_ALIASES` (15), `GRAPHQL_MAX_DIRECTIVES`
   * (20), `GRAPHQL_MAX_TOKENS` (2000). `GRAPHQL_MAX_COST` (100000): the costliest operation, counted
   * with its variables (src/api/graphql/complexity.ts: a connection costs its selection times the
   * page asked for, `first`/`last` at their value, a variable's too).
   */
  readonly maxDepth: number
  readonly maxAliases: number
  readonly maxDirectives: number
  readonly maxTokens: number
  readonly maxCost: number
  /** `MAX_BODY_BYTES`, default 64 MiB: the largest HTTP request body other than a multipart upload (413 beyond). */
  readonly maxBodyBytes: number
  /** `MAX_UPLOAD_BYTES`, default 256 MiB: the largest multipart request (a JSONL upload; 413 beyond). */
  readonly maxUploadBytes: number
  /** `MAX_JSONL_LINE_BYTES`, default 1 MiB: a longer line of a JSONL upload is that item's REJECTED status, never buffered whole. */
  readonly maxJsonlLineBytes: number
  /**
   * `UPLOAD_TIMEOUT_SECONDS`, default 300: how long a JSONL upload's file may take to arrive; past it the
   * request is refused (UPLOAD_TIMEOUT) and nothing of it is accepted. Node's own timeout for receiving a
   * whole request is set a minute longer, so that this one answers first.
   */
  readonly uploadTimeoutSeconds: number
  /** `GRAPHQL_BATCHING`, default 0 (off): the most operations one HTTP request may carry as a JSON array. */
  readonly batching: number
  /** `GRAPHQL_INTROSPECTION`, `true` or `false`: default false when `NODE_ENV=production`, true otherwise. */
  readonly introspection: boolean
  /** `GRAPHIQL`, `true` or `false`: GraphiQL on GET /graphql; default false when `NODE_ENV=production`, true otherwise. */
  readonly graphiql: boolean
  /** `WS_MAX_MESSAGE_BYTES`, default 1 MiB: a larger WebSocket message closes the socket (1009). */
  readonly wsMaxMessageBytes: number
  /** `WS_MAX_SUBSCRIPTIONS`, default 100: operations one WebSocket may have running; more are refused. */
  readonly wsMaxSubscriptions: number
  /** `WS_IDLE_TIMEOUT_SECONDS`, default 60, 0 off: a WebSocket without any operation for this long is closed (4410). */
  readonly wsIdleTimeoutSeconds: number
  /** `WS_KEEPALIVE_SECONDS`, default 12 (graphql-ws's), 0 off: how often each WebSocket is pinged; one that does not answer within as long again is dropped. */
  readonly wsKeepAliveSeconds: number
  /** `RATE_LIMIT_PER_MINUTE`, default 600, 0 off: operations one caller (token, else IP address) may run per rate-limit window. */
  readonly rateLimitPerWindow: number
  /** `RATE_LIMIT_WINDOW_SECONDS`, default 60: the length of that window (fixed windows, shared by every gateway through PostgreSQL). */
  readonly rateLimitWindowSeconds: number
}
