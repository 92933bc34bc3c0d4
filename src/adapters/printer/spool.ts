import path from 'node:path'
import type { Logger } from '../../platform/log.ts'
import { throwIfAbandoned } from '../abandon.ts'
import { exists, isTransientFsError, writeFileAtomic } from '../files.ts'
import { keyFileName } from '../keys.ts'
import { TransientOutsideError, type LabelPrinter } from '../ports.ts'
import { labelPdf } from './label.ts'

/**
 * A printer that is a folder: each label is written as `<spoolDir>/<key slug>-<hash>.pdf`, whence a
 * print server (CUPS with a watched folder, a person) takes it. One file per idempotency key: a key
 * whose file exists answers without writing again, and the file appears whole or not at all.
 * labelRef is the file's path.
 */
export function createSpoolPrinter (options: { readonly spoolDir: string, readonly now: () => Date }, log: Logger): LabelPrinter {
  return {
    async printLabel (call) {
      const file = path.join(options.spoolDir, `${keyFileName(call.idempotencyKey)}.pdf`)
      try {
        if (await exists(file)) return { labelRef: file }
        const pdf = await labelPdf(call, options.now())
        throwIfAbandoned('printer', call.signal)
        await writeFileAtomic(file, pdf)
      } catch (error) {
        if (isTransientFsError(error)) throw new TransientOutsideError('printer', `the spool folder could not be written (${(error as Error).message})`, { cause: error })
        throw error
      }
      log.info('label spooled', { idempotencyKey: call.idempotencyKey, file })
      return { labelRef: file }
    }
  }
}
