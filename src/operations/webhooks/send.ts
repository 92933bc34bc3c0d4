import http from 'node:http'
import https from 'node:https'
import { toError } from '../../platform/log.ts'
import { pinnedLookup, refusedLiteral, REFUSAL, RefusedDestinationError } from './destination.ts'

export interface SendOptions {
  /** WEBHOOK_TIMEOUT_MS: the most one attempt may take, answer included. */
  readonly timeoutMs: number
  /** WEBHOOK_ALLOW_PRIVATE: send to private, loopback and link-local addresses too. */
  readonly allowPrivate: boolean
  /** Aborts the attempt (its job ran past its expiry). */
  readonly abandoned: AbortSignal
}

/** What one POST came to. `sent` is false when nothing left this process (the destination was refused). */
export type Sent =
  | { readonly sent: true, readonly httpStatus: number | null, readonly error: string | null }
  | { readonly sent: false, readonly error: string }

/**
 * POSTs `body` to `url` once, on a connection of its own, to the addresses checked for it (pinnedLookup).
 * A redirect is not followed: the receiver is the URL the client gave, nothing else. Only the status
 * of the answer is read.
 */
export async function postWebhook (url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<Sent> {
  const target = new URL(url)
  const refused = refusedLiteral(target, options.allowPrivate)
  if (refused !== null) return { sent: false, error: `not sent: ${refused}` }
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const client = target.protocol === 'https:' ? https : http
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const request = client.request(target, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        // A connection per attempt: a pooled one would skip the lookup that checks the address.
        agent: false,
        lookup: pinnedLookup(options.allowPrivate),
        signal: AbortSignal.any([timeout, options.abandoned])
      }, (response) => {
        resolve(response.statusCode ?? 0)
        // The answer's body is not needed; close the connection.
        response.destroy()
      })
      request.once('error', reject)
      request.end(body)
    })
    if (status >= 200 && status < 300) return { sent: true, httpStatus: status, error: null }
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : ''
    return { sent: true, httpStatus: status, error: `HTTP ${status}${redirect}` }
  } catch (error) {
    if (error instanceof RefusedDestinationError) return { sent: false, error: `not sent: ${error.reason}` }
    const code = (toError(error) as { code?: unknown }).code
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return { sent: false, error: `not sent: ${REFUSAL.UNRESOLVED}` }
    return { sent: true, httpStatus: null, error: describeSendError(timeout, options) }
  }
}

/**
 * What the caller may read of a failed attempt (Bulk.notifications): the kind of failure, not the
 * socket's own message, which would tell what listens where on the receiving side.
 */
function describeSendError (timeout: AbortSignal, options: SendOptions): string {
  if (timeout.aborted) return `no answer within ${options.timeoutMs} ms`
  if (options.abandoned.aborted) return 'attempt abandoned (it ran past its expiry)'
  return 'the connection failed'
}
