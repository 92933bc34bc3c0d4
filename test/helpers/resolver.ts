import dns, { type LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { syncBuiltinESMExports } from 'node:module'

/** The resolver of this process, answering some names from lists (see answerLookups). */
export interface ScriptedResolver {
  /** How many lookups of `name` were answered so far. */
  lookups (name: string): number
  /** Puts the real resolver back. */
  restore (): void
}

type Callback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

/**
 * Makes this process's resolver answer the names given from their lists: the first lookup of a name
 * gets its first address, the next one the next, round and round (a DNS server rebinding a name
 * answers so). Every other name resolves as usual. It replaces `dns.lookup`, which Node's sockets
 * (http, fetch) resolve with, and `dns/promises` lookup, so every part of the gateway in this
 * process sees the same answers.
 */
export function answerLookups (answers: Readonly<Record<string, readonly string[]>>): ScriptedResolver {
  const counts = new Map<string, number>()
  const next = (name: string): LookupAddress => {
    const list = answers[name]!
    const count = counts.get(name) ?? 0
    counts.set(name, count + 1)
    const address = list[count % list.length]!
    return { address, family: isIP(address) }
  }
  const original = dns.lookup
  const originalPromise = dns.promises.lookup
  const scripted = function (hostname: string, options: unknown, callback?: Callback): void {
    const done = (typeof options === 'function' ? options : callback) as Callback
    if (!Object.hasOwn(answers, hostname)) {
      ;(original as (...args: unknown[]) => void)(hostname, ...(typeof options === 'function' ? [] : [options]), done)
      return
    }
    const answer = next(hostname)
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true
    process.nextTick(() => all ? done(null, [answer]) : done(null, answer.address, answer.family))
  }
  const scriptedPromise = async (hostname: string, options?: unknown): Promise<unknown> => {
    if (!Object.hasOwn(answers, hostname)) return await (originalPromise as (...args: unknown[]) => Promise<unknown>)(hostname, options)
    const answer = next(hostname)
    return typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true ? [answer] : answer
  }
  ;(dns as { lookup: unknown }).lookup = scripted
  ;(dns.promises as { lookup: unknown }).lookup = scriptedPromise
  // ESM named imports of node:dns and node:dns/promises follow the module objects only after this.
  syncBuiltinESMExports()
  return {
    lookups: (name) => counts.get(name) ?? 0,
    restore () {
      ;(dns as { lookup: unknown }).lookup = original
      ;(dns.promises as { lookup: unknown }).lookup = originalPromise
      syncBuiltinESMExports()
    }
  }
}
