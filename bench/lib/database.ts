import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/platform/db/embedded.ts'
import { migrate } from '../../src/platform/db/migrate.ts'
import { seedDemoCatalog } from '../../src/inventory/seed.ts'
import { createLogger } from '../../src/platform/log.ts'
import { postmasterPid } from './cpu.ts'

/**
 * The PostgreSQL the suite runs on: a throw-away embedded cluster, or the server at DATABASE_URL.
 * Every scenario gets a fresh database of its own on it (CREATE DATABASE), dropped at the end.
 */
export interface BenchCluster {
  /** Where the databases live, for the report. */
  readonly description: string
  /** The postmaster's pid, for the CPU figures (bench/lib/cpu.ts); undefined when it cannot be known (a server on another host). */
  readonly postgresPid: number | undefined
  /** Creates a database with the schema and the demo catalog (what `npm run seed` makes) and returns its connection string. */
  createDatabase (): Promise<string>
  /** Drops every database created, then stops an embedded cluster. */
  stop (): Promise<void>
}

export async function openCluster (databaseUrl: string | undefined): Promise<BenchCluster> {
  let dataDir: string | undefined
  let embedded: EmbeddedCluster | undefined
  if (databaseUrl === undefined) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-bench-'))
    fs.chmodSync(dataDir, 0o755)
    // pg_stat_statements counts each scenario's statements (bench/lib/dbCost.ts).
    embedded = await startEmbeddedPostgres({
      dataDir, port: 0, log: createLogger('warn'), settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top' }
    })
  }
  const adminUrl = databaseUrl ?? embedded!.url
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  const version = (await admin.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version
  const created: string[] = []
  // DATABASE_URL: the server's own data folder, which names its postmaster when the server runs on this machine.
  const dataDirectory = embedded?.dataDir ?? await admin.query<{ data_directory: string }>('SHOW data_directory')
    .then(result => result.rows[0]?.data_directory, () => undefined)
  return {
    postgresPid: postmasterPid(dataDirectory),
    description: `${embedded ? 'embedded' : 'DATABASE_URL'} PostgreSQL ${version}`,
    async createDatabase () {
      const name = `bench_${randomBytes(4).toString('hex')}`
      await admin.query(`CREATE DATABASE ${name}`)
      created.push(name)
      const url = new URL(adminUrl)
      url.pathname = `/${name}`
      // The bench's orders are for DEMO-0001 … DEMO-0100 (bench/lib/orders.ts): their stock comes first.
      const pool = new pg.Pool({ connectionString: url.toString(), max: 1 })
      try {
        // Where the server preloads it; elsewhere the statement counts are reported as unknown.
        await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').catch(() => {})
        await migrate(pool, createLogger('warn'))
        await seedDemoCatalog(pool)
      } finally {
        await pool.end()
      }
      return url.toString()
    },
    async stop () {
      for (const name of created) {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
        fs.rmSync(path.join(os.tmpdir(), 'order-ops-bench-data', name), { recursive: true, force: true })
      }
      await admin.end()
      await embedded?.stop()
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
