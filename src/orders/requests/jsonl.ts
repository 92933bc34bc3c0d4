import { Readable } from 'node:stream'
import { nestedDeeperThan, unstorableText } from '../../operations/domain/storable.ts'
import { REQUEST_ERROR_CODE, RequestRejectedError } from '../../operations/errors.ts'
import { parsePlaceOrder } from '../domain/placeOrder.ts'
import type { Candidate } from '../../operations/accept.ts'

/** How a JSONL upload is read; both from the limits configuration (src/api/security/options.ts). */
export interface OrderLinesOptions {
  /** `MAX_JSONL_LINE_BYTES`: a longer line is a REJECTED item, never buffered whole. */
  readonly maxLineBytes: number
  /** `UPLOAD_TIMEOUT_SECONDS`, in ms: how long the file may take to arrive, from its first byte. */
  readonly timeoutMs: number
}

/** Deeper than any PlaceOrderInput (3 levels), and far from what would exhaust the stack of JSON.stringify. */
const MAX_NESTING = 32
const NEWLINE = 0x0a

/** One line of the upload: its bytes, or only that it was over the limit. */
type Line = { readonly bytes: Uint8Array } | { readonly tooLong: true }

/** Refuses bytes that are not UTF-8 (such as a surrogate encoded on its own) rather than turning them into U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Splits a byte stream into lines (LF or CRLF) without ever holding more than `maxBytes` of one:
 * the rest of an over-long line is skipped as it arrives (issue #12, item 8).
 */
async function * lines (input: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Line> {
  let parts: Uint8Array[] = []
  let length = 0
  const line = (): Line => length > maxBytes ? { tooLong: true } : { bytes: Buffer.concat(parts) }
  for await (const chunk of input) {
    let at = 0
    while (at < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, at)
      const end = newline === -1 ? chunk.length : newline
      length += end - at
      if (length <= maxBytes) parts.push(chunk.subarray(at, end))
      else parts = []
      if (newline === -1) break
      yield line()
      parts = []
      length = 0
      at = newline + 1
    }
  }
  if (length > 0) yield line()
}

/**
 * Reads a JSONL upload (one PlaceOrderInput a line) as it streams in, yielding one candidate per
 * non-empty line: the order, or what is wrong with the line ("line 7: …"), so that a bad line is
 * one REJECTED item rather than a failed upload. A line over `maxLineBytes` is rejected unread. An
 * upload that has not ended `timeoutMs` after its file began is refused (UPLOAD_TIMEOUT), and
 * nothing of it is accepted.
 */
export async function * placeOrderLines (stream: AsyncIterable<Uint8Array>, options: OrderLinesOptions): AsyncGenerator<Candidate> {
  // Readable.from, not fromWeb: the upload's stream may be a WHATWG ponyfill rather than Node's own class.
  const input = stream instanceof Readable ? stream : Readable.from(stream)
  const timer = setTimeout(() => input.destroy(new RequestRejectedError(REQUEST_ERROR_CODE.UPLOAD_TIMEOUT,
    `the upload did not arrive within ${options.timeoutMs / 1000} s (UPLOAD_TIMEOUT_SECONDS); nothing of it was accepted`)), options.timeoutMs)
  try {
    let number = 0
    for await (const line of lines(input, options.maxLineBytes)) {
      number++
      if ('tooLong' in line) {
        yield { data: null, problem: `line ${number}: longer than ${options.maxLineBytes} bytes (MAX_JSONL_LINE_BYTES); not read` }
        continue
      }
      let text: string
      try {
        text = utf8.decode(line.bytes).replace(/\r$/, '')
      } catch {
        yield { data: null, problem: `line ${number}: not valid UTF-8` }
        continue
      }
      if (text.trim() !== '') yield candidate(text, number)
    }
  } finally {
    clearTimeout(timer)
    input.destroy()
  }
}

function candidate (line: string, number: number): Candidate {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (error) {
    return { data: line.length > 1000 ? line.slice(0, 1000) + '…' : line, problem: `line ${number}: not JSON (${(error as Error).message})` }
  }
  if (nestedDeeperThan(value, MAX_NESTING)) return { data: null, problem: `line ${number}: nested deeper than ${MAX_NESTING} levels` }
  const unstorable = unstorableText(value, line)
  if (unstorable !== null) return { data: value, problem: `line ${number}: ${unstorable}` }
  const parsed = parsePlaceOrder(value)
  return parsed.ok ? { data: parsed.input } : { data: value, problem: `line ${number}: ${parsed.message}` }
}
