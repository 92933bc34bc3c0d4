import type { TestGateway } from './gateway.ts'

export const UPLOAD_QUERY = 'mutation ($file: Upload!) { placeOrdersFromFile(file: $file) { bulkUuid errors requestItems { id status errorMessage } } }'

const BOUNDARY = 'oog-test-boundary'

/** The multipart request (GraphQL multipart request spec) up to the file's content: `operations`, `map`, the file's part header. */
function preamble (query: string): string {
  const part = (headers: string, body: string): string => `--${BOUNDARY}\r\n${headers}\r\n\r\n${body}\r\n`
  return part('Content-Disposition: form-data; name="operations"', JSON.stringify({ query, variables: { file: null } })) +
    part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: ['variables.file'] })) +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="orders.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`
}

function headers (gateway: TestGateway): Record<string, string> {
  return {
    'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    'graphql-require-preflight': '1',
    authorization: `Bearer ${gateway.adminToken}`
  }
}

/** Uploads `content` as a JSONL file in one go and answers the response's JSON. */
export async function upload (gateway: TestGateway, content: string | Uint8Array, query = UPLOAD_QUERY): Promise<{ status: number, body: any }> {
  const body = Buffer.concat([Buffer.from(preamble(query)), Buffer.from(content), Buffer.from(`\r\n--${BOUNDARY}--\r\n`)])
  const response = await fetch(gateway.httpUrl, { method: 'POST', headers: headers(gateway), body })
  return { status: response.status, body: await response.json() }
}

export interface StalledUpload {
  /** Resolves once the gateway has taken everything sent so far and asks for more. */
  readonly waiting: Promise<void>
  /** The response, should one come (the gateway gave up on the upload). */
  readonly response: Promise<Response>
  /** Ends the request from the client's side. */
  abort (): void
}

/** An upload that sends its first line and then nothing more, as a client trickling or gone silent. */
export function stalledUpload (gateway: TestGateway, firstLine: string): StalledUpload {
  const controller = new AbortController()
  let markWaiting!: () => void
  const waiting = new Promise<void>(resolve => { markWaiting = resolve })
  let pulls = 0
  const body = new ReadableStream<Uint8Array>({
    async pull (stream) {
      pulls++
      if (pulls === 1) {
        stream.enqueue(new TextEncoder().encode(preamble(UPLOAD_QUERY) + firstLine + '\n'))
        return
      }
      markWaiting()
      await new Promise<void>(resolve => controller.signal.addEventListener('abort', () => resolve()))
    }
  })
  const response = fetch(gateway.httpUrl, {
    method: 'POST', headers: headers(gateway), body, duplex: 'half', signal: controller.signal
  } as RequestInit)
  response.catch(() => {})
  return { waiting, response, abort: () => controller.abort() }
}

export interface PulledUpload {
  /** Bytes of the file the gateway has taken so far. */
  sent (): number
  /** The response, once the gateway answers. */
  readonly response: Promise<Response>
  /** Ends the request from the client's side. */
  abort (): void
}

/** An upload whose file is made a piece at a time, only as the gateway takes it: `next` answers the next piece, or null at the end. */
export function pulledUpload (gateway: TestGateway, query: string, next: () => Uint8Array | null): PulledUpload {
  const controller = new AbortController()
  let sent = 0
  let started = false
  const body = new ReadableStream<Uint8Array>({
    pull (stream) {
      if (!started) {
        started = true
        stream.enqueue(new TextEncoder().encode(preamble(query)))
        return
      }
      const piece = next()
      if (piece === null) {
        stream.enqueue(new TextEncoder().encode(`\r\n--${BOUNDARY}--\r\n`))
        stream.close()
        return
      }
      sent += piece.byteLength
      stream.enqueue(piece)
    }
  })
  const response = fetch(gateway.httpUrl, {
    method: 'POST', headers: headers(gateway), body, duplex: 'half', signal: controller.signal
  } as RequestInit)
  response.catch(() => {})
  return { sent: () => sent, response, abort: () => controller.abort() }
}
