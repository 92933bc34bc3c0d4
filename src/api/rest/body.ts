import type { IncomingMessage } from 'node:http'
import { REST_STATUS, RestError } from './errors.ts'

/** A body larger than `limit`: refused before it is parsed; the connection closes after the answer. */
function tooLarge (limit: number): RestError {
  return new RestError(REST_STATUS.PAYLOAD_TOO_LARGE, 'request body larger than %limit bytes (MAX_BODY_BYTES); send larger bulks in several requests',
    { limit: String(limit) }, { connection: 'close' })
}

/**
 * The JSON body of a request, read up to `limit` bytes: a declared Content-Length over it is
 * refused before anything is read, and the body is counted as it arrives for requests that declare
 * none or a wrong one (413 either way, as GraphQL's body limit). An empty body is undefined.
 * As Magento, a body must say it is JSON (400 otherwise) and parse (400 with the parser's reason).
 */
export async function readJsonBody (req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = req.headers['content-length']
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit)
  const chunks: Buffer[] = []
  let read = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    read += chunk.byteLength
    if (read > limit) throw tooLarge(limit)
    chunks.push(chunk)
  }
  if (read === 0) return undefined
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
  if (type === undefined || type === '') {
    throw new RestError(REST_STATUS.BAD_REQUEST, 'Content-Type header is empty: send `Content-Type: application/json`')
  }
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new RestError(REST_STATUS.BAD_REQUEST, 'Server cannot understand Content-Type HTTP header media type %type: send application/json', { type })
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch (error) {
    throw new RestError(REST_STATUS.BAD_REQUEST, 'Decoding error: %reason', { reason: (error as Error).message })
  }
}
