import { spawn } from 'node:child_process'
import path from 'node:path'
import type { Logger } from '../../platform/log.ts'
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

/**
 * A printer that is a command reading a PDF on stdin (`lp -d labels`, say). A printer has no
 * idempotency of its own, so printed keys are remembered here: `<spoolDir>/<key slug>-<hash>.printed`
 * is created once the command has exited 0, and a key with its marker is not printed again. A crash
 * between the command's success and the marker would print that one label twice: the window is a
 * file creation long. labelRef is `print:<key>`.
 *
 * Failures are transient (non-zero exit, a command that cannot start, or one running past
 * PRINT_TIMEOUT_MS and killed): a printer out of paper, or a command being installed, is fixed by
 * someone while the retries wait.
 */
export function createCommandPrinter (options: CommandPrinterOptions, log: Logger): LabelPrinter {
  return {
    async printLabel (call) {
      const labelRef = `print:${call.idempotencyKey}`
      const marker = path.join(options.spoolDir, `${keyFileName(call.idempotencyKey)}.printed`)
      if (await exists(marker)) return { labelRef }
      await print(options, await labelPdf(call, options.now()))
      await createMarker(marker, `${options.now().toISOString()} ${call.idempotencyKey}\n`)
      log.info('label printed', { idempotencyKey: call.idempotencyKey, command: options.command[0] })
      return { labelRef }
    }
  }
}

async function print (options: CommandPrinterOptions, pdf: Buffer): Promise<void> {
  const [program, ...args] = options.command
  await new Promise<void>((resolve, reject) => {
    const child = spawn(program!, args, { stdio: ['pipe', 'ignore', 'pipe'], shell: false, timeout: options.timeoutMs, killSignal: 'SIGKILL' })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { if (stderr.length < STDERR_LIMIT) stderr += chunk })
    // A command that exits without reading all of stdin makes the write fail (EPIPE); its exit status tells.
    child.stdin.on('error', () => {})
    child.on('error', (error) => reject(new TransientOutsideError('printer', `${program!} could not be run: ${error.message}`, { cause: error })))
    child.on('close', (code, signal) => {
      if (code === 0) return resolve()
      const why = signal !== null ? `was killed (${signal}${signal === 'SIGKILL' ? `, past PRINT_TIMEOUT_MS ${options.timeoutMs} ms` : ''})` : `exited with ${code}`
      reject(new TransientOutsideError('printer', `${program!} ${why}${stderr.trim() ? `: ${stderr.trim().slice(0, STDERR_LIMIT)}` : ''}`))
    })
    child.stdin.end(pdf)
  })
}
