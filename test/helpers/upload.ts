import http from 'node:http'
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

export interface WrittenUpload {
  /** Bytes of the file the server has taken so far (written to the socket). */
  written (): number
  /** The answer: HTTP status and JSON body. */
  readonly response: Promise<{ status: number, body: any }>
  /** Resolves once the whole request is written, the closing boundary included. */
  readonly finished: Promise<void>
  abort (): void
}

/**
 * An upload written with node:http, which goes on writing the request after the answer has come
 * (fetch stops sending once it has the answer): each piece from `next` is written when the last
 * one has been taken, until `next` answers null.
 */
export function writtenUpload (gateway: TestGateway, query: string, next: () => Uint8Array | null): WrittenUpload {
  let written = 0
  const request = http.request(gateway.httpUrl, { method: 'POST', headers: headers(gateway) })
  const response = new Promise<{ status: number, body: any }>((resolve, reject) => {
    request.on('response', (answer) => {
      let text = ''
      answer.setEncoding('utf8').on('data', (chunk: string) => { text += chunk }).on('end', () => {
        try { resolve({ status: answer.statusCode ?? 0, body: JSON.parse(text) }) } catch (error) { reject(error) }
      }).on('error', reject)
    })
    request.on('error', reject)
  })
  response.catch(() => {})
  const finished = new Promise<void>((resolve, reject) => {
    request.on('error', reject)
    const write = (): void => {
      const piece = next()
      if (piece === null) {
        request.end(`\r\n--${BOUNDARY}--\r\n`, () => resolve())
        return
      }
      request.write(piece, (error) => {
        if (error) return reject(error)
        written += piece.byteLength
        write()
      })
    }
    request.write(preamble(query), () => write())
  })
  finished.catch(() => {})
  return { written: () => written, response, finished, abort: () => request.destroy() }
}
