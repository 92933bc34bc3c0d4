import { GraphQLError } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { LIMIT_ERROR_CODE } from './codes.ts'

export interface BodyLimits {
  /** The largest body of any request but a multipart one (a 100,000-order JSON bulk is about 25 MB). */
  readonly maxBodyBytes: number
  /** The largest multipart request (GraphQL multipart request spec: a JSONL upload). */
  readonly maxUploadBytes: number
}

function tooLarge (limit: number, multipart: boolean): GraphQLError {
  const what = multipart ? 'multipart request' : 'request body'
  return new GraphQLError(`${what} larger than ${limit} bytes (${multipart ? 'MAX_UPLOAD_BYTES' : 'MAX_BODY_BYTES'})` +
    (multipart ? '' : '; send larger bulks as a JSONL upload (placeOrdersFromFile)'), {
    extensions: { code: LIMIT_ERROR_CODE.REQUEST_TOO_LARGE, http: { status: 413 } }
  })
}

/**
 * Reads what is left of a body the parser no longer wants (over the limit, or refused) and drops it,
 * a chunk at a time: ending the request stream instead would close the connection under a client
 * still sending, which would then see a reset rather than the answer. The server's request timeout bounds it.
 */
function drain (chunks: AsyncIterator<Uint8Array>): void {
  void (async () => {
    try {
      while (!(await chunks.next()).done);
    } catch {
      // The client went away: nothing left to drop.
    }
  })()
}

/**
 * An upload's body, read only as its parser asks for more (pull), each chunk passed to `counts`,
 * which answers false once the limit is passed. Not a TransformStream: the ponyfill's passes each
 * chunk on as soon as it is written, whatever the reader has taken, so an upload arriving faster
 * than it was parsed piled up in memory whole (issue 17, item 5).
 */
function pulled (body: ReadableStream<Uint8Array>, Stream: typeof ReadableStream, counts: (chunk: Uint8Array) => boolean, refusal: () => Error): ReadableStream<Uint8Array> {
  const chunks = (body as unknown as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
  return new Stream<Uint8Array>({
    async pull (controller) {
      let next: IteratorResult<Uint8Array>
      try {
        next = await chunks.next()
      } catch (error) {
        // The client went away, say: the parser learns it from the stream (the ponyfill leaves a rejected pull unhandled).
        controller.error(error)
        return
      }
      if (next.done === true) return controller.close()
      if (counts(next.value)) return controller.enqueue(next.value)
      controller.error(refusal())
      drain(chunks)
    },
    cancel () { drain(chunks) }
  })
}

/**
 * Request body limits, one for JSON (and other) bodies and a larger one for uploads. Yoga's own
 * `maxRequestBodySize` has one limit for every content type, so it is turned off in favour of this,
 * which works the same way: a declared `Content-Length` over the limit is refused before anything
 * is read, and the body is counted as it streams, for requests that declare no length or a wrong
 * one. Either way the answer is HTTP 413 and nothing is parsed or executed.
 */
export function useBodyLimits (limits: BodyLimits): Plugin {
  return {
    onRequestParse ({ request, requestParser, setRequestParser, fetchAPI }) {
      const multipart = request.headers.get('content-type')?.toLowerCase().startsWith('multipart/') ?? false
      const limit = multipart ? limits.maxUploadBytes : limits.maxBodyBytes
      const declared = request.headers.get('content-length')
      if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit, multipart)
      if (requestParser === undefined || request.body === null) return
      const parse = requestParser
      setRequestParser(async (req) => {
        if (req.body === null) return await parse(req)
        let read = 0
        let exceeded = false
        const counts = (chunk: Uint8Array): boolean => {
          read += chunk.byteLength
          exceeded = read > limit
          return !exceeded
        }
        // Node's own streams need Node's stream classes; the ponyfill's need the ponyfill's (as yoga does).
        const native = req.body instanceof ReadableStream
        const body = multipart
          ? pulled(req.body, native ? globalThis.ReadableStream : fetchAPI.ReadableStream, counts, () => tooLarge(limit, multipart))
          // A JSON body is parsed whole anyway: counted as it passes.
          : req.body.pipeThrough(new (native ? globalThis.TransformStream : fetchAPI.TransformStream)<Uint8Array, Uint8Array>({
            transform (chunk, controller) {
              if (counts(chunk)) controller.enqueue(chunk)
              else controller.error(tooLarge(limit, multipart))
            }
          }))
        try {
          return await parse(new fetchAPI.Request(req.url, {
            method: req.method, headers: req.headers, signal: req.signal, body, duplex: 'half'
          } as RequestInit))
        } catch (error) {
          // The multipart parser words any stream error as "invalid multipart data" (400): say what it was.
          if (exceeded) throw tooLarge(limit, multipart)
          throw error
        }
      })
    }
  }
}
