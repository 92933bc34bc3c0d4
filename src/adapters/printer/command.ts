import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../../platform/log.ts'
import { abandoned, throwIfAbandoned } from '../abandon.ts'
import { createMarker, exists } from '../files.ts'
import { keyFileName } from '../keys.ts'
import { TransientOutsideError, type LabelPrinter } from '../ports.ts'
import { labelPdf } from './label.ts'

export interface CommandPrinterOptions {
  /** PRINT_COMMAND, split into words: run as is, never through a shell. */
  readonly command: readonly string[]
  /** PRINT_TIMEOUT_MS */
  readonly timeoutMs: number
  /** LABEL_SPOOL_DIR: where the markers of printed keys are kept. */
  readonly spoolDir: string
  readonly now: () => Date
}

/** Most bytes of the command's stderr kept for the error message. */
const STDERR_LIMIT = 2000

/** The variables the print command gets besides the process's own environment: its dedupe key. */
export const PRINT_ENV = Object.freeze({
  /** The label's idempotency key (`<order id>:printShippingLabel`): the same on every attempt, for a print server to drop a repeat. */
  KEY: 'PRINT_IDEMPOTENCY_KEY',
  /** `1` when an earlier attempt started printing this key and recorded no end (it crashed, or was abandoned): it may have printed. */
  REPEAT: 'PRINT_REPEAT'
} as const)

/**
 * A printer that is a command reading a PDF on stdin (`lp -d labels`, say). A printer has no
 * idempotency of its own, so printed keys are remembered here, in LABEL_SPOOL_DIR:
 * `<key slug>-<hash>.printing` is created before the command runs, and replaced by `….printed` once
 * it exited 0; a key with its `.printed` marker is not printed again. labelRef is `print:<key>`.
 *
 * At least once, with a dedupe key: a worker that dies (or an attempt abandoned) while the command
 * runs, or between its success and the marker, leaves `.printing` without `.printed`, and the retry
 * prints again. That repeat is not silent: it is logged, and the command gets PRINT_REPEAT=1 with
 * the same PRINT_IDEMPOTENCY_KEY, which a print server (or a wrapper such as
 * `sh -c 'lp -d labels -t "$PRINT_IDEMPOTENCY_KEY"'`) can drop it by.
 *
 * Failures are transient (non-zero exit, a command that cannot start, or one running past
 * PRINT_TIMEOUT_MS and killed): a printer out of paper, or a command being installed, is fixed by
 * someone while the retries wait. A command that failed is known not to have printed: its
 * `.printing` marker is removed, so its retry is no repeat. An abandoned attempt kills the command.
 */
export function createCommandPrinter (options: CommandPrinterOptions, log: Logger): LabelPrinter {
  return {
    async printLabel (call) {
      const labelRef = `print:${call.idempotencyKey}`
      const name = path.join(options.spoolDir, keyFileName(call.idempotencyKey))
      if (await exists(`${name}.printed`)) return { labelRef }
      const pdf = await labelPdf(call, options.now())
      throwIfAbandoned('printer', call.signal)
      const repeat = !await createMarker(`${name}.printing`, `${options.now().toISOString()} attempt ${call.attempt} ${call.idempotencyKey}\n`)
      if (repeat) log.warn('printing a label an earlier attempt may have printed (it started and recorded no end)', { idempotencyKey: call.idempotencyKey })
      try {
        await print(options, pdf, { [PRINT_ENV.KEY]: call.idempotencyKey, [PRINT_ENV.REPEAT]: repeat ? '1' : '0' }, call.signal)
      } catch (error) {
        // The command said it failed: nothing was printed, and the retry is no repeat. Abandoned, it may have.
        if (call.signal?.aborted !== true) await fs.rm(`${name}.printing`, { force: true })
        throw error
      }
      await createMarker(`${name}.printed`, `${options.now().toISOString()} ${call.idempotencyKey}\n`)
      await fs.rm(`${name}.printing`, { force: true })
      log.info('label printed', { idempotencyKey: call.idempotencyKey, command: options.command[0], repeat })
      return { labelRef }
    }
  }
}

async function print (options: CommandPrinterOptions, pdf: Buffer, variables: Record<string, string>, signal: AbortSignal | undefined): Promise<void> {
  const [program, ...args] = options.command
  await new Promise<void>((resolve, reject) => {
    const child = spawn(program!, args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      shell: false,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
      // The command inherits the process's environment, as it would by default, plus its dedupe key.
      env: { ...process.env, ...variables },
      ...(signal !== undefined ? { signal } : {})
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { if (stderr.length < STDERR_LIMIT) stderr += chunk })
    // A command that exits without reading all of stdin makes the write fail (EPIPE); its exit status tells.
    child.stdin.on('error', () => {})
    child.on('error', (error) => {
      if (signal?.aborted === true) reject(abandoned('printer', { cause: error }))
      else reject(new TransientOutsideError('printer', `${program!} could not be run: ${error.message}`, { cause: error }))
    })
    child.on('close', (code, exitSignal) => {
      if (code === 0) return resolve()
      if (signal?.aborted === true) return reject(abandoned('printer'))
      const why = exitSignal !== null ? `was killed (${exitSignal}${exitSignal === 'SIGKILL' ? `, past PRINT_TIMEOUT_MS ${options.timeoutMs} ms` : ''})` : `exited with ${code}`
      reject(new TransientOutsideError('printer', `${program!} ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, STDERR_LIMIT)}` : ''}`))
    })
    child.stdin.end(pdf)
  })
}
