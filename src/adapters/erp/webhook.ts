import { sign, WEBHOOK_HEADER } from '../../platform/signature.ts'
import type { Logger } from '../../platform/log.ts'
import { abandoned, throwIfAbandoned } from '../abandon.ts'
import { TransientOutsideError, type ErpExporter } from '../ports.ts'

export interface ErpWebhookOptions {
  /** ERP_WEBHOOK_URL */
  readonly url: string
  /** ERP_WEBHOOK_SECRET */
  readonly secret: string
  /** ERP_TIMEOUT_MS */
  readonly timeoutMs: number
  readonly now: () => Date
}

/** The header naming the effect, as payment APIs spell it: the same on every attempt of one export. */
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key'

/** HTTP statuses worth retrying besides 5xx: Request Timeout, Too Many Requests. */
const RETRYABLE_STATUS = new Set([408, 429])
/** The ERP saying it has this Idempotency-Key already: the export happened, on an earlier attempt. */
const ALREADY_RECEIVED = 409
/** Most characters of an error answer quoted in the error. */
const QUOTED_BODY = 300

/**
 * The ERP export as a signed HTTP POST of the order document (JSON), in the older signature scheme that bulk
 * webhooks also carry while WEBHOOK_SECRET is set (src/platform/signature.ts:
 * `X-Signature-256: sha256=HMAC(secret, "<X-Webhook-Timestamp>.<body>")`), so a captured request cannot be replayed later.
 * `Idempotency-Key` lets the ERP drop a repeat: delivery is at least once.
 *
 * 2xx, or 409 (the key was received already): exported; the reference is the answer's JSON
 * `reference` when it has one, else `erp:<key>`. 5xx, 408, 429, a timeout or a failed connection:
 * TransientOutsideError. Anything else (400, 401, 422, a redirect, which is not followed): a plain
 * Error, as a retry would be refused the same way. ERP_WEBHOOK_URL is the operator's setting, not a
 * client's, so private addresses are allowed (the ERP is usually one).
 */
export function createErpWebhook (options: ErpWebhookOptions, log: Logger): ErpExporter {
  return {
    async exportOrder (call) {
      const body = JSON.stringify(call.document)
      const timestamp = Math.floor(options.now().getTime() / 1000)
      throwIfAbandoned('erp', call.signal)
      const timeout = AbortSignal.timeout(options.timeoutMs)
      let response: Response
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'order-ops-gateway-erp/1',
            [IDEMPOTENCY_KEY_HEADER]: call.idempotencyKey,
            [WEBHOOK_HEADER.ATTEMPT]: String(call.attempt),
            [WEBHOOK_HEADER.TIMESTAMP]: String(timestamp),
            [WEBHOOK_HEADER.SIGNATURE]: sign(options.secret, timestamp, body)
          },
          body,
          redirect: 'manual',
          // ERP_TIMEOUT_MS, or the job abandoning the attempt, whichever comes first.
          signal: call.signal !== undefined ? AbortSignal.any([timeout, call.signal]) : timeout
        })
      } catch (error) {
        if (call.signal?.aborted === true) throw abandoned('erp', { cause: error })
        const why = (error as Error).name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `the connection failed (${(error as Error).message})`
        throw new TransientOutsideError('erp', why, { cause: error })
      }
      const text = await response.text().catch(() => '')
      if ((response.status >= 200 && response.status < 300) || response.status === ALREADY_RECEIVED) {
        const erpReference = referenceIn(text) ?? `erp:${call.idempotencyKey}`
        log.info('order exported to the ERP', { idempotencyKey: call.idempotencyKey, httpStatus: response.status, erpReference })
        return { erpReference }
      }
      const failure = `the ERP answered HTTP ${response.status}${text ? `: ${text.slice(0, QUOTED_BODY)}` : ''}`
      if (response.status >= 500 || RETRYABLE_STATUS.has(response.status)) throw new TransientOutsideError('erp', failure)
      throw new Error(`erp: ${failure} (not retried: the same request would be refused again)`)
    }
  }
}

/** `reference` of a JSON answer, when it is a non-empty string. */
function referenceIn (text: string): string | undefined {
  try {
    const reference = (JSON.parse(text) as { reference?: unknown } | null)?.reference
    return typeof reference === 'string' && reference !== '' ? reference : undefined
  } catch {
    return undefined
  }
}
