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

export function isTransient (error: unknown): boolean {
  const code = codeOf(error)
  return isConnectionLost(error) || (code !== undefined && TRANSIENT_SQLSTATES.has(code))
}

export function describe (error: unknown): string {
  const code = codeOf(error)
  const message = error instanceof Error ? error.message : String(error)
  return code && /^[0-9A-Z]{5}$/.test(code) ? `${message} (SQLSTATE ${code})` : message
}
