/**
 * `extensions.code` of requests the gateway refuses (a GraphQL error; nothing was written), and of
 * failed authentication. Stable, so that clients can branch on them; the messages explain.
 */
export const REQUEST_ERROR_CODE = Object.freeze({
  /** No valid credentials (HTTP 401). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Valid credentials without the role a field needs (HTTP 403). */
  FORBIDDEN: 'FORBIDDEN',
  /** No such bulk for this caller: another owner's is answered the same. */
  NOT_FOUND: 'NOT_FOUND',
  /** An argument outside what the schema can express (a cursor from elsewhere, a bad header). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  EMPTY_BULK: 'EMPTY_BULK',
  /** More orders than MAX_BULK_SIZE. */
  BULK_TOO_LARGE: 'BULK_TOO_LARGE',
  /** A JSONL upload that did not arrive within UPLOAD_TIMEOUT_SECONDS. */
  UPLOAD_TIMEOUT: 'UPLOAD_TIMEOUT',
  /** The idempotency key was used for a different request. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** Only a finished bulk can be acknowledged. */
  BULK_NOT_FINISHED: 'BULK_NOT_FINISHED',
  /** The caller has OWNER_MAX_OPEN_BULKS bulks running already. */
  TOO_MANY_OPEN_BULKS: 'TOO_MANY_OPEN_BULKS'
} as const)
export type RequestErrorCode = (typeof REQUEST_ERROR_CODE)[keyof typeof REQUEST_ERROR_CODE]

/** A request that cannot be carried out at all; nothing of it is written. */
export class RequestRejectedError extends Error {
  override name = 'RequestRejectedError'
  readonly code: RequestErrorCode
  constructor (code: RequestErrorCode, message: string) {
    super(message)
    this.code = code
  }
}
