/**
 * What an item must be for PostgreSQL to store it (issue #12, item 9). JSON and GraphQL strings can
 * carry a NUL (U+0000), which text and jsonb refuse, and an unpaired UTF-16 surrogate, which is no
 * Unicode character (jsonb refuses its `\ud800` escape). Either one, anywhere in an item, failed the
 * whole bulk's insert; now it is that item's problem, found before anything is written. Pure.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one (no `u` flag: code units). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** What is wrong with one string, or null. */
function badText (text: string): string | null {
  if (text.includes('\0')) return 'a NUL character (U+0000), which cannot be stored'
  const lone = LONE_SURROGATE.exec(text)
  if (lone !== null) return `an unpaired surrogate (U+${lone[0].charCodeAt(0).toString(16).toUpperCase()}), which is not valid Unicode`
  return null
}

/**
 * JSON.stringify escapes a NUL as `\u0000` and an unpaired surrogate as `\udXXX` (a paired one it
 * writes as it is); an escape is one when the backslashes before it are an even number.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(0000|d[89a-f][0-9a-f]{2})/gi

/**
 * The first string of `value` (a key or a value, at any depth) that cannot be stored, as a problem
 * naming its field (`shippingAddress.name contains a NUL character …`), or null when there is none.
 * `json` is the value's JSON text, when the caller has it already (as JSON.stringify wrote it, or
 * as it was parsed from UTF-8): such a character can only be in it as an escape, and without one
 * (nearly always) the value is not walked at all. Walked with a
 * stack of its own, so that a deeply nested value cannot exhaust the call stack.
 */
export function unstorableText (value: unknown, json?: string): string | null {
  if (json !== undefined && json.search(UNSTORABLE_ESCAPE) === -1) return null
  const stack: Array<{ path: string, value: unknown }> = [{ path: '', value }]
  while (stack.length > 0) {
    const { path, value: current } = stack.pop()!
    if (typeof current === 'string') {
      const bad = badText(current)
      if (bad !== null) return `${path || 'the item'} contains ${bad}`
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ path: `${path}[${i}]`, value: current[i] })
    } else if (current !== null && typeof current === 'object') {
      const keys = Object.keys(current)
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!
        const bad = badText(key)
        if (bad !== null) return `a field name ${path ? `in ${path} ` : ''}contains ${bad}`
        stack.push({ path: path ? `${path}.${key}` : key, value: (current as Record<string, unknown>)[key] })
      }
    }
  }
  return null
}

/** `text` with each NUL and unpaired surrogate replaced by U+FFFD: a message quoting the input can be stored. */
export function storableText (text: string): string {
  return text.replaceAll('\0', '\uFFFD').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD')
}

/** A copy of a rejected item's data that can be stored: each NUL and unpaired surrogate replaced by U+FFFD. */
export function storableData (value: unknown): unknown {
  if (value === undefined) return null
  const json = JSON.stringify(value)
  return json.search(UNSTORABLE_ESCAPE) === -1 ? value : JSON.parse(json.replace(UNSTORABLE_ESCAPE, '$1\\ufffd'))
}

/** Whether `value` has arrays or objects nested more than `levels` deep, found without recursion. */
export function nestedDeeperThan (value: unknown, levels: number): boolean {
  const stack: Array<{ value: unknown, depth: number }> = [{ value, depth: 1 }]
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!
    if (current === null || typeof current !== 'object') continue
    if (depth > levels) return true
    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 })
  }
  return false
}
