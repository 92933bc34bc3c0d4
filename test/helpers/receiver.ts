import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'

/** One request a receiver got. */
export interface Received {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** The status it was answered with; null: not answered. */
  readonly status: number | null
}

/** How to answer a request: a status (with a body and headers), or null never to answer. */
export type Answer = { readonly status: number, readonly body?: string, readonly headers?: Record<string, string> } | null

/**
 * An HTTP server on loopback that records every request and answers as `answer` says, given the
 * request and how many to the same path came before it: a webhook receiver, an ERP, a JWKS host.
 */
export class LoopbackReceiver {
  readonly received: Received[] = []
  readonly #server: Server
  #port = 0

  constructor (answer: (request: Omit<Received, 'status'>, seenBefore: number) => Answer) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }
        const reply = answer(request, this.to(request.path).length)
        this.received.push({ ...request, status: reply?.status ?? null })
        if (reply !== null) res.writeHead(reply.status, reply.headers).end(reply.body)
      })
    })
  }

  async start (): Promise<void> {
    await new Promise<void>(resolve => this.#server.listen(0, '127.0.0.1', resolve))
    this.#port = (this.#server.address() as AddressInfo).port
  }

  url (path: string): string {
    return `http://127.0.0.1:${this.#port}${path}`
  }

  /** The requests to one path, in arrival order. */
  to (path: string): Received[] {
    return this.received.filter(r => r.path === path)
  }

  async stop (): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise(resolve => this.#server.close(resolve))
  }
}

/**
 * The older signature scheme (ERP export; bulk webhooks while WEBHOOK_SECRET is set), checked as a receiver would with the secret and nothing of the
 * gateway's code: X-Signature-256 = sha256=hex(HMAC-SHA256(secret, "<X-Webhook-Timestamp>.<body>")),
 * the timestamp within 5 minutes of now.
 */
export function signatureValid (secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const timestamp = String(headers['x-webhook-timestamp'])
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false
  const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex'))
  const given = Buffer.from(String(headers['x-signature-256'] ?? ''))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/**
 * The Standard Webhooks signature checked as a receiver would, with the specification's own library
 * and the owner's secret: the parsed body when `webhook-signature` verifies (one of its signatures,
 * over webhook-id, webhook-timestamp within 5 minutes, and the body), else null.
 */
export function standardVerified (secret: string, headers: IncomingHttpHeaders, body: string): unknown {
  try {
    return new Webhook(secret).verify(body, {
      'webhook-id': String(headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? '')
    })
  } catch (error) {
    if (error instanceof WebhookVerificationError) return null
    throw error
  }
}
