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
        // Node's own streams need Node's TransformStream; the ponyfill's need the ponyfill's (as yoga does).
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream
        const counted = req.body.pipeThrough(new Transform<Uint8Array, Uint8Array>({
          transform (chunk, controller) {
            read += chunk.byteLength
            if (read > limit) {
              exceeded = true
              controller.error(tooLarge(limit, multipart))
              return
            }
            controller.enqueue(chunk)
          }
        }))
        try {
          return await parse(new fetchAPI.Request(req.url, {
            method: req.method, headers: req.headers, signal: req.signal, body: counted, duplex: 'half'
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
