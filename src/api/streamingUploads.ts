import { Readable } from 'node:stream'
import { Busboy, type BusboyInstance } from '@fastify/busboy'
import { GraphQLError } from 'graphql'
import type { GraphQLParams, Plugin } from 'graphql-yoga'

/** An uploaded file as resolvers see it (the Upload scalar): its bytes come as they arrive. */
export interface StreamedFile {
  readonly name: string
  readonly type: string
  stream (): AsyncIterable<Uint8Array>
}

function badRequest (message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } })
}

/**
 * Parses GraphQL multipart requests (the multipart request spec: `operations`, `map`, then the
 * files) as they arrive, with @fastify/busboy, and starts the operation as soon as its file begins: the
 * resolver reads the file while it is still being uploaded, so a JSONL upload of any size is
 * held in memory a chunk at a time, not whole (yoga's own parser collects each file first).
 * One file per request, which is all `placeOrdersFromFile` takes.
 */
export function useStreamingUploads (): Plugin {
  // Each upload's body as the parser reads it, until the request is answered.
  const bodies = new WeakMap<Request, Readable>()
  return {
    onRequestParse ({ request, setRequestParser }) {
      if (!(request.headers.get('content-type')?.toLowerCase().startsWith('multipart/form-data') ?? false)) return
      setRequestParser(async (req) => await parse(req, (body) => bodies.set(request, body)))
    },
    onResponse ({ request }) {
      // A resolver that stopped reading the file (the bulk refused part way, BULK_TOO_LARGE) leaves
      // the rest of the body unread, and a client still sending it would wait on a connection nobody
      // reads until the request timeout. Once the answer is out, the rest is read and dropped.
      const body = bodies.get(request)
      if (body === undefined) return
      bodies.delete(request)
      if (body.readableEnded || body.destroyed) return
      body.unpipe()
      body.on('data', () => {}).on('error', () => {}).resume()
    }
  }
}

async function parse (request: Request, reading: (body: Readable) => void): Promise<GraphQLParams> {
  if (request.body === null) throw badRequest('the multipart request has no body')
  let parser: BusboyInstance
  try {
    parser = new Busboy({ headers: { 'content-type': request.headers.get('content-type') ?? '' }, limits: { files: 1 } })
  } catch (error) {
    // A content type without a boundary, for instance: said at once, before anything is read.
    throw badRequest(`invalid multipart request: ${(error as Error).message}`)
  }
  return await new Promise<GraphQLParams>((resolve, reject) => {
    let operations: GraphQLParams | undefined
    let map: Record<string, string[]> | undefined
    let settled = false
    const fail = (error: Error): void => { if (!settled) { settled = true; reject(error) } }
    parser.on('field', (name, value) => {
      try {
        if (name === 'operations') operations = JSON.parse(value) as GraphQLParams
        else if (name === 'map') map = JSON.parse(value) as Record<string, string[]>
      } catch {
        fail(badRequest(`the multipart field "${name}" is not JSON`))
      }
    })
    parser.on('file', (field, file, filename, _encoding, mimeType) => {
      if (settled || operations === undefined || map === undefined) {
        file.resume()
        fail(badRequest('the multipart fields "operations" and "map" must come before the files'))
        return
      }
      const streamed: StreamedFile = { name: filename || 'upload', type: mimeType, stream: () => file }
      try {
        for (const path of map[field] ?? []) place(operations, path, streamed)
      } catch (error) {
        file.resume()
        fail(error as Error)
        return
      }
      settled = true
      resolve(operations)
    })
    parser.on('finish', () => {
      if (operations === undefined) fail(badRequest('the multipart request has no "operations" field'))
      else if (!settled) { settled = true; resolve(operations) }
    })
    parser.on('error', (error: unknown) => fail(badRequest(`invalid multipart request: ${(error as Error).message}`)))
    const body = Readable.from(request.body as unknown as AsyncIterable<Uint8Array>)
    reading(body)
    body.on('error', (error) => parser.destroy(error)).pipe(parser)
  })
}

/** Puts the file where `map` says (`variables.file`), refusing paths outside the variables. */
function place (operations: GraphQLParams, path: string, file: StreamedFile): void {
  const [root, ...rest] = path.split('.')
  if (root !== 'variables' || rest.length === 0 || rest.some(key => key === '__proto__' || key === 'constructor' || key === 'prototype')) {
    throw badRequest(`the multipart map path "${path}" must point into variables`)
  }
  let target = (operations.variables ??= {}) as Record<string, unknown>
  for (const key of rest.slice(0, -1)) target = (target[key] ??= {}) as Record<string, unknown>
  target[rest.at(-1)!] = file
}
