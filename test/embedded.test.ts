import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { startEmbeddedPostgres, type EmbeddedCluster } from '../src/platform/db/embedded.ts'
import { createLogger } from '../src/platform/log.ts'

const log = createLogger('silent')
const folders: string[] = []
const clusters: EmbeddedCluster[] = []

afterAll(async () => {
  for (const cluster of clusters) await cluster.stop()
  for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true })
})

/** A fresh folder under the system's temporary folder, removed after the file. */
function temporaryFolder (): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-embedded-'))
  folders.push(folder)
  return folder
}

async function start (dataDir: string): Promise<EmbeddedCluster> {
  const cluster = await startEmbeddedPostgres({ dataDir, port: 0, log, settings: { fsync: 'off' } })
  clusters.push(cluster)
  return cluster
}

async function query<R extends pg.QueryResultRow> (url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(text)).rows
  } finally {
    await client.end()
  }
}

async function accepts (url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

const portOf = (url: string): string => new URL(url).port

describe('the embedded PostgreSQL', () => {
  it('starts in a fresh folder, keeps its data across a restart, and lets a second process join it', async () => {
    const dataDir = temporaryFolder()
    // mkdtemp makes it private (0700); open it as a project folder would be, so `postgres` can enter it as root.
    fs.chmodSync(dataDir, 0o755)

    const first = await start(dataDir)
    expect(first.owned).toBe(true)
    // A folder the postgres user can enter is used as is, as root too.
    expect(first.dataDir).toBe(path.join(dataDir, 'postgres'))
    expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true)
    expect(await query(first.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
    await query(first.url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('written before the restart')")
    await first.stop()
    expect(await accepts(first.url)).toBe(false)

    const second = await start(dataDir)
    try {
      expect(second.owned).toBe(true)
      expect(second.dataDir).toBe(first.dataDir)
      expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'written before the restart' }])

      const joined = await start(dataDir)
      expect(joined.owned).toBe(false)
      expect(joined.dataDir).toBe(second.dataDir)
      expect(portOf(joined.url)).toBe(portOf(second.url))
      expect(await query(joined.url, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }])
      // Stopping a joined cluster leaves it running for the process that started it.
      await joined.stop()
      expect(await accepts(second.url)).toBe(true)
    } finally {
      await second.stop()
    }
    expect(await accepts(second.url)).toBe(false)
  })

  it('runs from a data folder inside a private parent (as root: from a copy the postgres user can enter)', async () => {
    const parent = temporaryFolder()
    expect(fs.statSync(parent).mode & 0o777).toBe(0o700)
    const dataDir = path.join(parent, 'data')

    const cluster = await start(dataDir)
    // The relocated copy is root's business to clean up; remove it even when an assertion fails.
    const relocated = path.dirname(cluster.dataDir)
    if (!relocated.startsWith(parent + path.sep)) folders.push(relocated)
    try {
      expect(cluster.owned).toBe(true)
      expect(await query(cluster.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }])
      if (process.getuid?.() === 0) {
        // PostgreSQL runs as `postgres`, who cannot pass the private parent: the cluster lives elsewhere.
        const key = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)
        expect(cluster.dataDir).toBe(path.join('/var/lib/order-ops-gateway', key, 'postgres'))
        expect(cluster.dataDir.startsWith(parent + path.sep)).toBe(false)
        expect(fs.existsSync(path.join(cluster.dataDir, 'PG_VERSION'))).toBe(true)
      } else {
        // PostgreSQL runs as this user, who owns the private folder: it is used as is.
        expect(cluster.dataDir).toBe(path.join(dataDir, 'postgres'))
        expect(fs.existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true)
      }
    } finally {
      await cluster.stop()
    }
    expect(fs.statSync(parent).mode & 0o777).toBe(0o700)
  })
})
