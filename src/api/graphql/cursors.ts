import { GraphQLError } from 'graphql'
import { REQUEST_ERROR_CODE } from '../../operations/errors.ts'

/**
 * Opaque cursors: base64url of `kind:` and a JSON value. A cursor from another connection, or a
 * made-up one, is a BAD_USER_INPUT error rather than a silently wrong page.
 */
export function encodeCursor (kind: string, value: unknown): string {
  return Buffer.from(`${kind}:${JSON.stringify(value)}`).toString('base64url')
}

export function decodeCursor<T> (kind: string, cursor: string | null | undefined, valid: (value: unknown) => value is T): T | null {
  if (cursor == null) return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  if (text.startsWith(`${kind}:`)) {
    try {
      const value: unknown = JSON.parse(text.slice(kind.length + 1))
      if (valid(value)) return value
    } catch {}
  }
  throw new GraphQLError(`invalid cursor "${cursor}": pass a cursor from this connection's edges or pageInfo`, { extensions: { code: REQUEST_ERROR_CODE.BAD_USER_INPUT } })
}
