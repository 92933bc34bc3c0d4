/**
 * How a failure inside a job is classified. Magento's rule, which we keep: lock waits, deadlocks
 * and lost connections are worth retrying; anything else is not.
 */

/** SQLSTATEs a retry can cure: serialization failure, deadlock, lock timeout, too many connections, statement timeout, shutdown. */
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '53300', '57014', '57P01', '57P02', '57P03'])
const CONNECTION_ERRNOS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN'])

function codeOf (error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** The connection (and so the transaction) is gone: nothing more can be written on it. */
export function isConnectionLost (error: unknown): boolean {
  const code = codeOf(error)
  if (code !== undefined) return code.startsWith('08') || code.startsWith('57P') || CONNECTION_ERRNOS.has(code)
  const message = error instanceof Error ? error.message : ''
  return /Connection terminated|connection error|not queryable|Client was closed/i.test(message)
}

/** pg's pool, when no connection came free within DB_ACQUIRE_TIMEOUT_MS. */
function isPoolTimeout (error: unknown): boolean {
  return error instanceof Error && /timeout exceeded when trying to connect/i.test(error.message)
}

export function isTransient (error: unknown): boolean {
  const code = codeOf(error)
  return isConnectionLost(error) || isPoolTimeout(error) || (code !== undefined && TRANSIENT_SQLSTATES.has(code))
}

/** Names of the conditions we meet most, and of SQLSTATE classes for the rest. */
const CONDITIONS: Readonly<Record<string, string>> = {
  40001: 'serialization failure',
  '40P01': 'deadlock detected',
  '55P03': 'lock not available',
  53300: 'too many connections',
  57014: 'statement canceled or timed out',
  '57P01': 'database server shutting down',
  23505: 'unique violation',
  23514: 'check violation',
  23503: 'foreign key violation',
  22003: 'numeric value out of range'
}
const CLASSES: Readonly<Record<string, string>> = {
  '08': 'connection exception',
  22: 'data exception',
  23: 'integrity constraint violation',
  40: 'transaction rollback',
  42: 'syntax error or access rule violation',
  53: 'insufficient resources',
  57: 'operator intervention',
  P0: 'error raised by the database'
}

/**
 * What a failure is called where clients can read it (Operation.resultMessage): the SQLSTATE and
 * its condition name, never the server's message text, which can carry SQL, constraint names and
 * values. The full error goes to the worker's log with the operation id.
 */
export function describe (error: unknown): string {
  const code = codeOf(error)
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    return `${CONDITIONS[code] ?? CLASSES[code.slice(0, 2)] ?? 'database error'} (SQLSTATE ${code})`
  }
  if (isConnectionLost(error)) return 'lost the database connection'
  if (isPoolTimeout(error)) return 'no database connection came free in time (DB_ACQUIRE_TIMEOUT_MS)'
  return 'internal error (see the worker log)'
}

/** The full text of a failure, for logs only. */
export function detail (error: unknown): string {
  const code = codeOf(error)
  const message = error instanceof Error ? error.message : String(error)
  return code ? `${message} [${code}]` : message
}
