/** `LOG_LEVEL`'s values, most verbose first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface Logger {
  debug (message: string, fields?: Record<string, unknown>): void
  info (message: string, fields?: Record<string, unknown>): void
  warn (message: string, fields?: Record<string, unknown>): void
  error (message: string, fields?: Record<string, unknown>): void
  child (bindings: Record<string, unknown>): Logger
}

/** One line per event on stderr: a readable message, then `key=value` fields. */
export function createLogger (level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  const threshold = RANK[level]
  const write = (at: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[at] < threshold) return
    const all = { ...bindings, ...fields }
    const tail = Object.entries(all)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${format(value)}`)
      .join(' ')
    process.stderr.write(`${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${message}${tail ? ' ' + tail : ''}\n`)
  }
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (more) => createLogger(level, { ...bindings, ...more })
  }
}

function format (value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message)
  if (typeof value === 'string') return /^[\w./:@-]+$/.test(value) ? value : JSON.stringify(value)
  return JSON.stringify(value) ?? String(value)
}

/** Coerces anything thrown into an Error, so background loops can log it and go on. */
export function toError (thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown))
}
