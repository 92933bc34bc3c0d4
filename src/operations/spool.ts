import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { OPERATION_STATUS } from './domain/status.ts'
import { operationRow, type NewOperation } from './sql/bulks.ts'

/**
 * Where a request's checked items wait for the acceptance transaction, so that the transaction
 * begins only once the whole request has arrived (issue #12, item 1): a client that sends slowly
 * holds no database connection while it does.
 */
export interface Spool {
  add (operation: NewOperation): Promise<void>
  /** Every operation added, in order, `size` at a time; once. */
  chunks (size: number): AsyncIterable<SpoolChunk>
  /** Frees what the spool holds (its file); safe to call more than once. */
  dispose (): Promise<void>
}

/**
 * Consecutive operations of a spool, as the insert takes them: each one's row as JSON text, and
 * only what the acceptance reads of them besides (ids, for jobs and order numbers). The rows are
 * not parsed back into objects: a chunk lives across its statement's round trip, and what outlives
 * it is promoted out of the young generation (issue 17, item 5).
 */
export interface SpoolChunk {
  /** The request index of its first operation (operations are added in request order). */
  readonly from: number
  /**
   * Each operation's row, JSON.stringify(operationRow(op)), with no job_id (src/operations/sql/bulks.ts).
   * A consumer takes them out (splice) once joined, so that only their joined text lives across the round trip.
   */
  readonly rows: string[]
  readonly ids: string[]
  /** Whether each was accepted (OPEN), not REJECTED. */
  readonly accepted: boolean[]
}

function emptyChunk (from: number): SpoolChunk {
  return { from, rows: [], ids: [], accepted: [] }
}

/**
 * For items already in memory (GraphQL variables): kept as they are (`operations`, which a group
 * commit takes whole), and serialized into rows a chunk at a time only when chunks() is read.
 */
export function memorySpool (): Spool & { readonly operations: readonly NewOperation[] } {
  const operations: NewOperation[] = []
  return {
    operations,
    async add (operation) { operations.push(operation) },
    async * chunks (size) {
      for (let at = 0; at < operations.length; at += size) {
        const chunk = emptyChunk(at)
        for (const op of operations.slice(at, at + size)) {
          chunk.rows.push(JSON.stringify(operationRow(op)))
          chunk.ids.push(op.id)
          chunk.accepted.push(op.status === OPERATION_STATUS.OPEN)
        }
        yield chunk
      }
    },
    async dispose () { operations.length = 0 }
  }
}

/** A file spool's folder in the system's temporary folder: `oog-upload-<pid of its gateway>-<random>`. */
const SPOOL_PREFIX = 'oog-upload-'

/** A file spool's line: `<id> TAB <status> TAB <row JSON>` (JSON text holds no raw tab or newline). */
const TAB = '\t'

/**
 * For items that stream in (a JSONL upload): written to a file of their own in the system's temporary
 * folder, one line per operation, and read back a chunk at a time, so that memory holds one
 * chunk whatever the upload's size. The file is deleted by dispose().
 */
export async function fileSpool (): Promise<Spool> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${SPOOL_PREFIX}${process.pid}-`))
  const file = path.join(dir, 'operations.jsonl')
  const out = createWriteStream(file)
  let failure: Error | undefined
  out.on('error', (error) => { failure = error })
  const written = new Promise<void>((resolve, reject) => { out.once('finish', resolve).once('error', reject) })
  // Awaited by chunks(); a write error before then is thrown by the next add() instead.
  written.catch(() => {})
  return {
    async add (operation) {
      if (failure !== undefined) throw failure
      const line = operation.id + TAB + operation.status + TAB + JSON.stringify(operationRow(operation)) + '\n'
      // Wait while the file is behind: the upload is read no faster than the disk takes it.
      if (!out.write(line)) await once(out, 'drain')
    },
    async * chunks (size) {
      out.end()
      await written
      const lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })
      let from = 0
      let chunk = emptyChunk(from)
      for await (const line of lines) {
        const statusAt = line.indexOf(TAB) + 1
        const rowAt = line.indexOf(TAB, statusAt) + 1
        // A copy, not a slice: a slice would keep the text read from the file alive with the id.
        chunk.ids.push(Buffer.from(line.slice(0, statusAt - 1), 'latin1').toString('latin1'))
        chunk.accepted.push(line.slice(statusAt, rowAt - 1) === OPERATION_STATUS.OPEN)
        chunk.rows.push(line.slice(rowAt))
        if (chunk.rows.length >= size) {
          yield chunk
          from += chunk.ids.length
          chunk = emptyChunk(from)
        }
      }
      if (chunk.rows.length > 0) yield chunk
    },
    async dispose () {
      out.destroy()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Removes the spool folders of gateways that are gone: a gateway killed during an upload (SIGKILL,
 * a crash, a power cut) never ran dispose(), and nothing else would delete its file. A folder is
 * removed only when no process has its pid here (a pid in use, even by another program, keeps it),
 * so a gateway running beside this one keeps its spools. Returns how many were removed.
 */
export async function removeOrphanedSpools (): Promise<number> {
  let removed = 0
  for (const name of await readdir(os.tmpdir())) {
    const pid = name.startsWith(SPOOL_PREFIX) ? Number(/^(\d+)-/.exec(name.slice(SPOOL_PREFIX.length))?.[1]) : NaN
    if (!Number.isSafeInteger(pid) || pid <= 0 || isRunning(pid)) continue
    await rm(path.join(os.tmpdir(), name), { recursive: true, force: true })
    removed++
  }
  return removed
}

function isRunning (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the pid is in use by a process this one may not signal.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}
