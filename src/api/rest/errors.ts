import type { ServerResponse } from 'node:http'

/**
 * HTTP statuses of the REST routes' refusals. Each is answered with Magento's error body,
 * `{ message, parameters }`: `%name` in the message stands for `parameters.name`.
 */
export const REST_STATUS = Object.freeze({
  ACCEPTED: 202,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_ERROR: 500
} as const)
export type RestStatus = (typeof REST_STATUS)[keyof typeof REST_STATUS]

/** Magento's error body (Magento\Framework\Webapi\Exception as REST renders it). */
export interface MagentoError {
  readonly message: string
  readonly parameters: Readonly<Record<string, string>> | readonly string[]
}

/** A request refused with an HTTP status and Magento's error body; nothing was written. */
export class RestError extends Error {
  override name = 'RestError'
  readonly status: RestStatus
  readonly parameters: MagentoError['parameters']
  readonly headers: Readonly<Record<string, string>>

  constructor (status: RestStatus, message: string, parameters: MagentoError['parameters'] = [], headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.parameters = parameters
    this.headers = headers
  }

  get body (): MagentoError {
    return { message: this.message, parameters: this.parameters }
  }
}

/** Magento's answer for a bulk that does not exist, or is another owner's. */
export function noSuchBulk (uuid: string): RestError {
  return new RestError(REST_STATUS.NOT_FOUND, 'Bulk uuid %bulkUuid not exist', { bulkUuid: uuid.slice(0, 100) })
}

/** Writes a JSON answer, not to be cached (a bulk's status changes). */
export function sendJson (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers })
  res.end(JSON.stringify(body))
}
