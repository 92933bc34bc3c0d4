import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/platform/db/embedded.ts'
import { createLogger } from '../../src/platform/log.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL connection string with the right to create databases. */
    adminDatabaseUrl: string
  }
}

let cluster: EmbeddedCluster | undefined
let dataDir: string | undefined

/** TEST_DATABASE_URL when set; otherwise a fresh embedded PostgreSQL for this run. */
export async function setup (project: TestProject): Promise<void> {
  const external = process.env.TEST_DATABASE_URL?.trim()
  if (external) {
    project.provide('adminDatabaseUrl', external)
    return
  }
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'order-ops-test-'))
  // mkdtemp makes it private (0700); when root runs the tests, PostgreSQL runs as `postgres` and must enter it.
  fs.chmodSync(dataDir, 0o755)
  cluster = await startEmbeddedPostgres({
    dataDir,
    port: 0,
    log: createLogger('warn'),
    // Many test files, each with its gateway, workers and pg-boss pools, run side by side.
    settings: { max_connections: '400', fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }
  })
  project.provide('adminDatabaseUrl', cluster.url)
}

export async function teardown (): Promise<void> {
  await cluster?.stop()
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
}
