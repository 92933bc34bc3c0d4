import { pino, stdSerializers, stdTimeFunctions, type DestinationStream } from 'pino'
import { PinoPretty } from 'pino-pretty'
import { counter } from './metrics.ts'

/** `LOG_LEVEL`'s values, most verbose first (pino's names for them). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * The logger every part of the code takes: a message, then fields. Fields are JSON; the ones that
 * tie a line to the work it is about have fixed names (`bulkUuid`, `operationId`, `orderNumber`,
 * `orderId`, `jobId`, `queue`), and an Error under `error` (or `err`) is written with its type,
 * message, stack, code and `cause` chain.
 */
export interface Logger {
  debug (message: string, fields?: Record<string, unknown>): void
  info (message: string, fields?: Record<string, unknown>): void
  warn (message: string, fields?: Record<string, unknown>): void
  error (message: string, fields?: Record<string, unknown>): void
  child (bindings: Record<string, unknown>): Logger
}

/** Where a logger writes: stderr by default, as one JSON object a line (pretty printed for a terminal). */
export interface LoggerOptions {
  /** Another stream, for tests; it receives JSON lines. */
  readonly destination?: DestinationStream
  /** Pretty, coloured lines instead of JSON. Default: when stderr is a terminal. */
  readonly pretty?: boolean
}

/**
 * A pino logger on stderr: one JSON line per event, with `time` (ISO 8601), `level` (its name),
 * `msg`, the bindings and the fields. stderr, not stdout, so that the command-line tools' output
 * (a created token, a bulk's status) stays alone on stdout.
 *
 * JSON lines are written asynchronously, never blocking the process: stderr is usually a pipe to a
 * log collector, and a synchronous write into a full pipe sleeps the whole event loop (sonic-boom
 * waits 100 ms a try), which stalled a worker settling 500-operation chunks for a third of its time.
 * Lines wait in a buffer while the pipe is full, at most LOG_BUFFER_BYTES of them: beyond that, lines
 * are dropped and counted (`order_ops_log_lines_dropped_total`) rather than held without bound. The
 * buffer is flushed synchronously when the process exits, so a line logged just before
 * `process.exit` is not lost. The pretty form, for a terminal, is written synchronously.
 */
export function createLogger (level: LogLevel, bindings: Record<string, unknown> = {}, options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY)
  const destination = options.destination ?? (pretty
    ? PinoPretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : stderrLines())
  const logger = pino({
    level,
    base: { pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { error: serializeError, err: serializeError }
  }, destination)
  return wrap(Object.keys(bindings).length > 0 ? logger.child(bindings) : logger)
}

/** Lines held while stderr's reader is behind, at most; beyond it they are dropped and counted. */
const LOG_BUFFER_BYTES = 16 * 1024 * 1024

const droppedLines = counter('log_lines_dropped_total', 'Log lines dropped because stderr was not read fast enough to keep LOG_BUFFER_BYTES (16 MiB) of them', [])

/** stderr, written asynchronously with a bounded buffer (createLogger). */
function stderrLines (): DestinationStream {
  const stream = pino.destination({ fd: 2, sync: false, maxLength: LOG_BUFFER_BYTES })
  stream.on('drop', () => { droppedLines.inc() })
  return stream
}

function wrap (logger: pino.Logger): Logger {
  return {
    debug: (message, fields) => logger.debug(fields ?? {}, message),
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    child: (more) => wrap(logger.child(more))
  }
}

/** Errors with their stack and their `cause`s; anything else thrown as it is. */
function serializeError (value: unknown): unknown {
  return value instanceof Error ? stdSerializers.errWithCause(value) : value
}

/** Coerces anything thrown into an Error, so background loops can log it and go on. */
export function toError (thrown: unknown): Error {
  if (thrown instanceof Error) return thrown
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown))
}
