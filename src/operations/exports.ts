import { randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { once } from 'node:events'
import path from 'node:path'
import type pg from 'pg'
import { run, type Db, type Query } from '../platform/db/pool.ts'
import {
  closeExportCursor, declareExportCursor, fetchExportRows, selectExportProgress, selectMissingBulks, upsertExportProgress,
  type ExportProgressRow
} from './sql/exports.ts'

/**
 * Bulk exports (issue 15, part 2; Shopify's bulkOperationRunQuery): a bulk of kind `export` has one
 * operation whose processor streams the rows of a query to `<EXPORT_DIR>/<bulk uuid>.jsonl`, one
 * JSON object a line. The features say what to read (an ExportQuery); this module reads it through
 * a server-side cursor, CHUNK rows at a time, and writes it through a file stream, waiting for the
 * stream to drain: memory holds one chunk whatever the number of rows.
 *
 * The file is written to a temporary name and renamed when it is whole, inside the job's
 * transaction: an attempt that crashes or is retried leaves no partial file under the final name,
 * and the next attempt writes the whole file again from its first row (no line twice).
 */

/** Rows per FETCH, and between two progress writes. */
export const EXPORT_CHUNK = 1000

/** What an export reads: how many rows it will write, and the rows, each one `line` (a JSON object as text). */
export interface ExportQuery {
  readonly count: Query
  readonly rows: Query
}

/** What an export's processor needs besides the job's transaction. */
export interface ExportContext {
  /** A pool beside the job's transaction: progress is written through it, visible at once. */
  readonly pool: pg.Pool
  /** Where export files are written (EXPORT_DIR), shared by the workers that write them and the gateways that serve them. */
  readonly exportDir: string
}

/** An export's result, stored as its operation's result. */
export interface ExportResult {
  readonly rows: number
  readonly bytes: number
}

export const EXPORT_CONTENT_TYPE = 'application/jsonl; charset=utf-8'
const FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl(\..+\.part)?$/

/** The file of an export bulk. */
export function exportFile (exportDir: string, bulkUuid: string): string {
  return path.join(exportDir, `${bulkUuid}.jsonl`)
}

/** The path of an export's file, as routed by src/api/resultsRoute.ts. */
export function exportPath (bulkUuid: string): string {
  return `/bulks/${bulkUuid}/export.jsonl`
}

/**
 * Writes the rows of `query` (in `tx`, the job's transaction) to the bulk's file. Returns the rows
 * and bytes written. Throws, leaving no file behind, when anything fails.
 */
export async function writeExport (tx: Db, context: ExportContext, bulkUuid: string, query: ExportQuery, chunk = EXPORT_CHUNK): Promise<ExportResult> {
  const [counted] = await run<{ total: string }>(tx, query.count)
  const total = Number(counted!.total)
  await run(context.pool, upsertExportProgress(bulkUuid, total, 0, 0))
  await mkdir(context.exportDir, { recursive: true })
  const final = exportFile(context.exportDir, bulkUuid)
  const part = `${final}.${randomUUID()}.part`
  const out = createWriteStream(part)
  let rows = 0
  let bytes = 0
  try {
    await run(tx, declareExportCursor(query.rows))
    for (;;) {
      const page = await run<{ line: string }>(tx, fetchExportRows(chunk))
      if (page.length === 0) break
      // Line by line: short strings die young, where a chunk joined into one would be a large object
      // that only a full collection frees.
      let flowing = true
      for (const row of page) {
        const line = row.line + '\n'
        bytes += Buffer.byteLength(line)
        flowing = out.write(line)
      }
      rows += page.length
      // events.once rejects if the stream fails meanwhile.
      if (!flowing) await once(out, 'drain')
      await run(context.pool, upsertExportProgress(bulkUuid, Math.max(total, rows), rows, bytes))
      if (page.length < chunk) break
    }
    await run(tx, closeExportCursor())
    out.end()
    await once(out, 'finish')
    await rename(part, final)
  } catch (error) {
    out.destroy()
    await rm(part, { force: true })
    throw error
  }
  // The count and the cursor read two snapshots: the file is what counts.
  if (rows !== total) await run(context.pool, upsertExportProgress(bulkUuid, rows, rows, bytes))
  return { rows, bytes }
}

/** An export's progress, once its worker has begun it. */
export async function readExportProgress (db: Db, bulkUuid: string): Promise<{ rowsTotal: number, rowsWritten: number, bytes: number } | null> {
  const [row] = await run<ExportProgressRow>(db, selectExportProgress(bulkUuid))
  return row ? { rowsTotal: Number(row.rows_total), rowsWritten: Number(row.rows_written), bytes: Number(row.bytes) } : null
}

/**
 * Deletes the export files (and temporary files of attempts that died) whose bulk is gone: run
 * after retention deletes bulks, so that a file lives as long as its bulk. Answers the files deleted.
 */
export async function deleteOrphanExports (db: Db, exportDir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(exportDir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0
    throw error
  }
  const byBulk = new Map<string, string[]>()
  for (const name of names) {
    const match = FILE.exec(name)
    if (match) byBulk.set(match[1]!, [...byBulk.get(match[1]!) ?? [], name])
  }
  if (byBulk.size === 0) return 0
  const missing = await run<{ uuid: string }>(db, selectMissingBulks([...byBulk.keys()]))
  let deleted = 0
  for (const { uuid } of missing) {
    for (const name of byBulk.get(uuid) ?? []) {
      await rm(path.join(exportDir, name), { force: true })
      deleted++
    }
  }
  return deleted
}
