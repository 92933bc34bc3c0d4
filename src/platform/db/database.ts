import pg from 'pg'
import type { Logger } from '../log.ts'
import { startEmbeddedPostgres, type EmbeddedCluster } from './embedded.ts'

/** The database cannot be reached at start; the message is one line saying what to check. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}

export interface Database {
  readonly url: string
  /** The embedded cluster this process started, if any. */
  readonly embedded: EmbeddedCluster | undefined
}

/** Where the database is: the gateway's Config has these fields. */
export interface DatabaseOptions {
  /** `DATABASE_URL`; unset: the embedded PostgreSQL. */
  readonly databaseUrl: string | undefined
  /** Where the embedded cluster keeps its data. */
  readonly dataDir: string
  /** The embedded cluster's port; 0: a free one. */
  readonly embeddedPgPort: number
}

/** `DATABASE_URL` when set, else the embedded PostgreSQL (started, or joined when another process of ours runs it). */
export async function openDatabase (config: DatabaseOptions, log: Logger): Promise<Database> {
  if (config.databaseUrl) {
    await assertReachable(config.databaseUrl)
    return { url: config.databaseUrl, embedded: undefined }
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, log })
  return { url: embedded.url, embedded }
}

const MINIMUM_SERVER_VERSION = 130000

async function assertReachable (url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  const where = redact(url)
  try {
    await client.connect()
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num')
    const version = Number(rows[0]?.server_version_num)
    if (version < MINIMUM_SERVER_VERSION) {
      throw new DatabaseUnavailableError(`PostgreSQL at ${where} is version ${Math.floor(version / 10000)}; 13 or later is needed`)
    }
  } catch (error) {
    if (error instanceof DatabaseUnavailableError) throw error
    throw new DatabaseUnavailableError(`cannot connect to PostgreSQL at ${where} (DATABASE_URL): ${(error as Error).message || String(error)}`)
  } finally {
    await client.end().catch(() => {})
  }
}

/** The URL without its password, for messages. */
export function redact (url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable URL)'
  }
}
