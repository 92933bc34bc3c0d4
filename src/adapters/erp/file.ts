import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from '../../platform/log.ts'
import { throwIfAbandoned } from '../abandon.ts'
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
 * Two markers per key, in `<markerDir>` (issue 13, item 7):
 * - `<sha256 of the key>.pending`, written before the first append, holds the file's size at that
 *   moment: the key's line, if an attempt appended it, is at that offset or after it (the file is
 *   only appended to). It indexes the file by key, so that a retry reads only what was appended since
 *   its key's first attempt, never the whole, ever-growing file;
 * - `<sha256 of the key>`, created once the line is appended and flushed: the export is done.
 * A key with its done marker answers at once. A key with a pending marker only (an earlier attempt
 * died or was abandoned around its append) looks for its line from the recorded offset, and
 * appends only when it is not there. A key with neither has never been appended: it appends
 * without reading the file. Calls with one key take turns within a process; two processes exporting
 * the same key at the same moment (which the queue does not do) could both append. The reference is
 * `erp-file:<key>`.
 *
 * A line torn by a crash mid-write is left alone and the next line starts on a line of its own;
 * importers skip lines that are not JSON. An importer must not truncate or rotate the file while
 * exports may be retried (a retry would not find its line and append it again).
 */
export function createErpFile (options: ErpFileOptions, log: Logger): ErpExporter {
  const markerDir = markerDirOf(options.exportFile)
  const oneAtATime = keyedSerializer()
  return {
    async exportOrder (call) {
      const erpReference = `erp-file:${call.idempotencyKey}`
      const done = path.join(markerDir, keyHash(call.idempotencyKey))
      const pending = `${done}.pending`
      const finish = async (): Promise<{ erpReference: string }> => {
        await createMarker(done, erpReference)
        await fs.rm(pending, { force: true })
        return { erpReference }
      }
      try {
        return await oneAtATime(call.idempotencyKey, async () => {
          if (await exists(done)) return { erpReference }
          const since = await offsetIn(pending)
          if (since !== null) {
            const { found, bytesSince } = await fileHasKeySince(options.exportFile, call.idempotencyKey, since)
            log.info('looked for the line of an earlier attempt', { idempotencyKey: call.idempotencyKey, from: since, bytesSince, found })
            if (found) return await finish()
          }
          throwIfAbandoned('erp', call.signal)
          if (since === null) await createMarker(pending, String(await sizeOf(options.exportFile)))
          const line: ErpExportLine = { idempotencyKey: call.idempotencyKey, exportedAt: options.now().toISOString(), document: call.document }
          await appendLine(options.exportFile, JSON.stringify(line))
          log.info('order exported to the ERP file', { idempotencyKey: call.idempotencyKey, file: options.exportFile })
          return await finish()
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

/** The file's size in bytes, 0 when it does not exist yet. */
async function sizeOf (file: string): Promise<number> {
  try {
    return (await fs.stat(file)).size
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
}

/** The offset a pending marker holds, or null when there is none; 0 (read it all) for one a crash left unreadable. */
async function offsetIn (marker: string): Promise<number | null> {
  let text: string
  try {
    text = await fs.readFile(marker, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw error
  }
  const offset = Number(text)
  return text !== '' && Number.isSafeInteger(offset) && offset >= 0 ? offset : 0
}

/** Whether the export file has a line for this key at or after byte `since`, and how many bytes the file has after it (at most that many are read). */
async function fileHasKeySince (file: string, idempotencyKey: string, since: number): Promise<{ found: boolean, bytesSince: number }> {
  const size = await sizeOf(file)
  if (size <= since) return { found: false, bytesSince: 0 }
  const quoted = JSON.stringify(idempotencyKey)
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8', start: since }), crlfDelay: Infinity })
  try {
    for await (const text of lines) {
      if (!text.includes(quoted)) continue
      try {
        if ((JSON.parse(text) as Partial<ErpExportLine>).idempotencyKey === idempotencyKey) return { found: true, bytesSince: size - since }
      } catch {
        // A torn line: not an export.
      }
    }
    return { found: false, bytesSince: size - since }
  } finally {
    lines.close()
  }
}
