import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from '../../platform/log.ts'
import { createMarker, exists, isTransientFsError } from '../files.ts'
import { keyHash } from '../keys.ts'
import { TransientOutsideError, type ErpExporter } from '../ports.ts'
import { keyedSerializer } from '../serialize.ts'

export interface ErpFileOptions {
  /** ERP_EXPORT_FILE */
  readonly exportFile: string
  readonly now: () => Date
}

/** One line of the export file. */
export interface ErpExportLine {
  readonly idempotencyKey: string
  readonly exportedAt: string
  readonly document: Record<string, unknown>
}

/** The folder of markers beside the export file: `erp-export.jsonl` → `erp-export.keys/`. */
export function markerDirOf (exportFile: string): string {
  return exportFile.replace(/\.jsonl$/, '') + '.keys'
}

/**
 * The ERP export as a file an ERP imports: one JSON line `{ idempotencyKey, exportedAt, document }`
 * per order, appended exactly once per key, even across a crash between the append and the answer.
 *
 * Each exported key gets a marker, `<markerDir>/<sha256 of the key>`, created after its line is
 * appended and flushed. A key with a marker answers at once. Without one, a first attempt appends;
 * a later attempt (`attempt > 1`: an earlier one may have appended and died before its marker)
 * first looks for the key in the file, and only appends when it is not there. Calls with one key
 * take turns within a process; two processes exporting the same key at the same moment as first
 * attempts (which the queue does not do) could both append. The reference is `erp-file:<key>`.
 *
 * A line torn by a crash mid-write is left alone and the next line starts on a line of its own;
 * importers skip lines that are not JSON.
 */
export function createErpFile (options: ErpFileOptions, log: Logger): ErpExporter {
  const markerDir = markerDirOf(options.exportFile)
  const oneAtATime = keyedSerializer()
  return {
    async exportOrder (call) {
      const erpReference = `erp-file:${call.idempotencyKey}`
      const marker = path.join(markerDir, keyHash(call.idempotencyKey))
      try {
        return await oneAtATime(call.idempotencyKey, async () => {
          if (await exists(marker)) return { erpReference }
          if (call.attempt > 1 && await fileHasKey(options.exportFile, call.idempotencyKey)) {
            await createMarker(marker, erpReference)
            log.info('order found exported by an earlier attempt', { idempotencyKey: call.idempotencyKey })
            return { erpReference }
          }
          const line: ErpExportLine = { idempotencyKey: call.idempotencyKey, exportedAt: options.now().toISOString(), document: call.document }
          await appendLine(options.exportFile, JSON.stringify(line))
          await createMarker(marker, erpReference)
          log.info('order exported to the ERP file', { idempotencyKey: call.idempotencyKey, file: options.exportFile })
          return { erpReference }
        })
      } catch (error) {
        if (isTransientFsError(error)) throw new TransientOutsideError('erp', `the export file could not be written (${(error as Error).message})`, { cause: error })
        throw error
      }
    }
  }
}

const NEWLINE = 0x0a

/** Appends one line in one write (O_APPEND) and flushes it, after a newline if the file ends in a torn line. */
async function appendLine (file: string, line: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const handle = await fs.open(file, 'a+')
  try {
    const { size } = await handle.stat()
    let torn = false
    if (size > 0) {
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      torn = last[0] !== NEWLINE
    }
    await handle.write(`${torn ? '\n' : ''}${line}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Whether the export file has a line for this key (it is read line by line, whatever its size). */
async function fileHasKey (file: string, idempotencyKey: string): Promise<boolean> {
  if (!await exists(file)) return false
  const quoted = JSON.stringify(idempotencyKey)
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  try {
    for await (const text of lines) {
      if (!text.includes(quoted)) continue
      try {
        if ((JSON.parse(text) as Partial<ErpExportLine>).idempotencyKey === idempotencyKey) return true
      } catch {
        // A torn line: not an export.
      }
    }
    return false
  } finally {
    lines.close()
  }
}
