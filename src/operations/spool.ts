import { once } from 'node:events'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import type { NewOperation } from './sql/bulks.ts'

/**
 * Where a request's checked items wait for the acceptance transaction, so that the transaction
 * begins only once the whole request has arrived (issue #12, item 1): a client that sends slowly
 * holds no database connection while it does.
 */
export interface Spool {
  add (operation: NewOperation): Promise<void>
  /** Every operation added, in order, `size` at a time; once. */
  chunks (size: number): AsyncIterable<NewOperation[]>
  /** Frees what the spool holds (its file); safe to call more than once. */
  dispose (): Promise<void>
}

/** For items already in memory (GraphQL variables): they are kept as they are. */
export function memorySpool (): Spool {
  const operations: NewOperation[] = []
  return {
    async add (operation) { operations.push(operation) },
    async * chunks (size) {
      for (let at = 0; at < operations.length; at += size) yield operations.slice(at, at + size)
    },
    async dispose () { operations.length = 0 }
  }
}

/**
 * For items that stream in (a JSONL upload): written to a file of their own in the system's temporary
 * folder, one JSON line per operation, and read back a chunk at a time, so that memory holds one
 * chunk whatever the upload's size. The file is deleted by dispose().
 */
export async function fileSpool (): Promise<Spool> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oog-upload-'))
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
      // Wait while the file is behind: the upload is read no faster than the disk takes it.
      if (!out.write(JSON.stringify(operation) + '\n')) await once(out, 'drain')
    },
    async * chunks (size) {
      out.end()
      await written
      const lines = readline.createInterface({ input: createReadStream(file), crlfDelay: Infinity })
      let chunk: NewOperation[] = []
      for await (const line of lines) {
        chunk.push(JSON.parse(line) as NewOperation)
        if (chunk.length >= size) {
          yield chunk
          chunk = []
        }
      }
      if (chunk.length > 0) yield chunk
    },
    async dispose () {
      out.destroy()
      await rm(dir, { recursive: true, force: true })
    }
  }
}
