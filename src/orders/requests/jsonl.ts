import readline from 'node:readline'
import { Readable } from 'node:stream'
import { parsePlaceOrder } from '../domain/placeOrder.ts'
import type { Candidate } from '../../operations/accept.ts'

/**
 * Reads a JSONL upload (one PlaceOrderInput a line) as it streams in, yielding one candidate per
 * non-empty line: the order, or the line and what is wrong with it ("line 7: …"), so that a bad
 * line is one REJECTED item rather than a failed upload.
 */
export async function * placeOrderLines (stream: AsyncIterable<Uint8Array>): AsyncGenerator<Candidate> {
  // Readable.from, not fromWeb: the upload's stream may be a WHATWG ponyfill rather than Node's own class.
  const lines = readline.createInterface({ input: Readable.from(stream), crlfDelay: Infinity })
  let number = 0
  for await (const line of lines) {
    number++
    if (line.trim() === '') continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      yield { data: line.length > 1000 ? line.slice(0, 1000) + '…' : line, problem: `line ${number}: not JSON (${(error as Error).message})` }
      continue
    }
    const parsed = parsePlaceOrder(value)
    yield parsed.ok ? { data: parsed.input } : { data: value, problem: `line ${number}: ${parsed.message}` }
  }
}
