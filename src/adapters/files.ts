import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * Runs `create` (which creates `file`); when `file`'s folder is missing, creates it and runs `create` again.
 * The folder exists for every file but the first, so it is not created (a system call) before each one.
 */
async function inFolder<T> (file: string, create: () => Promise<T>): Promise<T> {
  try {
    return await create()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    await fs.mkdir(path.dirname(file), { recursive: true })
    return await create()
  }
}

/**
 * Writes `file` whole or not at all: the bytes go to a temporary file beside it, are flushed to
 * disk, and the temporary file is renamed over `file` (atomic on one file system). A reader, or a
 * retry after a crash, never sees half a message or half a label; two writers racing leave one file.
 */
export async function writeFileAtomic (file: string, data: Buffer | string): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`
  try {
    const handle = await inFolder(temporary, async () => await fs.open(temporary, 'wx'))
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.rename(temporary, file)
  } catch (error) {
    await fs.rm(temporary, { force: true })
    throw error
  }
}

/** Whether `file` exists (any error other than "no such file" is thrown). */
export async function exists (file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}

/** Creates a marker file holding `content`, exclusively; false when it existed already (an earlier attempt made it). */
export async function createMarker (file: string, content = ''): Promise<boolean> {
  try {
    await inFolder(file, async () => { await fs.writeFile(file, content, { flag: 'wx' }) })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

/** errnos of a file system that a retry may find cured: full, out of descriptors, busy, I/O trouble. */
const TRANSIENT_FS_CODES = new Set(['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'EIO', 'ETIMEDOUT'])

/** Whether a failed file operation is worth retrying (anything else, a missing permission say, needs a person). */
export function isTransientFsError (error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && TRANSIENT_FS_CODES.has(code)
}
