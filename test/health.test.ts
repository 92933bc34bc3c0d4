/**
 * Health checks (issue 13, "Health"): GET /health and GET /ready on a gateway's port, and on
 * HEALTH_PORT for a worker-only process, over real HTTP; /ready turns 503 while the database
 * refuses the process's connections, and ready again once it takes them, without a restart.
 */
import pg from 'pg'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { eventually, startGateway } from './helpers/gateway.ts'
import { freePort, isRunning, killAll, spawnMain } from './helpers/processes.ts'

async function get (url: string): Promise<{ status: number, body: any }> {
  const response = await fetch(url)
  const text = await response.text()
  return { status: response.status, body: text === '' ? null : JSON.parse(text) }
}

/** Runs `sql` on the run's administrative database (ALTER DATABASE is refused on the database itself in use). */
async function asAdmin (sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') })
  await admin.connect()
  try {
    await admin.query(sql)
  } finally {
    await admin.end()
  }
}

describe('a gateway', () => {
  it('answers /health while it runs and /ready once the database, migrations, queue and listeners are up', async () => {
    const gateway = await startGateway()
    const base = gateway.httpUrl.replace(/\/graphql$/, '')
    try {
      expect(await get(`${base}/health`)).toEqual({ status: 200, body: { status: 'alive' } })
      expect(await get(`${base}/ready`)).toEqual({
        status: 200,
        body: {
          status: 'ready',
          checks: {
            process: 'ok',
            database: 'ok',
            migrations: 'ok',
            queue: 'ok',
            'listener:bulk_changed': 'ok',
            'listener:order_changed': 'ok',
            'listener:api_token_changed': 'ok',
            'listener:finish-watcher': 'ok'
          }
        }
      })
      // No credentials asked, and HEAD works as orchestrators send it.
      expect((await fetch(`${base}/ready`, { method: 'HEAD' })).status).toBe(200)

      // A migration of this build missing from the database: not ready, naming it.
      const { rows: [latest] } = await gateway.sql.query('DELETE FROM schema_migration WHERE version = (SELECT max(version) FROM schema_migration) RETURNING version, name')
      const missing = await eventually(async () => { const r = await get(`${base}/ready`); return r.status === 503 ? r : undefined }, 10_000, '/ready to see the missing migration')
      expect(missing.body).toMatchObject({ status: 'not ready', checks: { migrations: `not applied: ${String(latest.version).padStart(4, '0')}`, database: 'ok' } })
      await gateway.sql.query('INSERT INTO schema_migration (version, name) VALUES ($1, $2)', [latest.version, latest.name])
      await eventually(async () => (await get(`${base}/ready`)).status === 200 ? true : undefined, 10_000, '/ready to be ready again')
    } finally {
      await gateway.stop()
    }
  })

  it('is not ready while the database refuses its connections, and ready again once it takes them, without a restart', async () => {
    const gateway = await startGateway()
    const base = gateway.httpUrl.replace(/\/graphql$/, '')
    try {
      expect((await get(`${base}/ready`)).status).toBe(200)
      // The database stops taking connections, and every connection the process had is cut.
      await asAdmin(`ALTER DATABASE ${gateway.db.name} ALLOW_CONNECTIONS false`)
      await asAdmin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${gateway.db.name}'`)
      const down = await eventually(async () => {
        const r = await get(`${base}/ready`)
        return r.status === 503 && r.body.checks.database !== 'ok' && r.body.checks['listener:bulk_changed'] !== 'ok' ? r : undefined
      }, 20_000, '/ready to report the database unreachable')
      expect(down.body.status).toBe('not ready')
      expect(down.body.checks['listener:order_changed']).toBe('not connected (reconnecting)')
      // Alive all the same: an orchestrator should wait, not restart it.
      expect((await get(`${base}/health`)).status).toBe(200)

      await asAdmin(`ALTER DATABASE ${gateway.db.name} ALLOW_CONNECTIONS true`)
      const up = await eventually(async () => { const r = await get(`${base}/ready`); return r.status === 200 ? r : undefined }, 30_000, '/ready to recover')
      expect(Object.values(up.body.checks).every(finding => finding === 'ok')).toBe(true)
      // And it works again: a query over GraphQL reads the database.
      const { data } = await gateway.gql('{ inventory(sku: "DEMO-0001") { sku } }')
      expect(data.inventory.sku).toBe('DEMO-0001')
    } finally {
      await asAdmin(`ALTER DATABASE ${gateway.db.name} ALLOW_CONNECTIONS true`)
      await gateway.stop()
    }
  })
})

describe('a worker-only process', () => {
  afterAll(async () => { await killAll() })

  it('serves /health and /ready on HEALTH_PORT, and nothing else there', async () => {
    // The gateway creates the database and migrates it; the worker joins it as a process of its own.
    const gateway = await startGateway({ roles: ['gateway'] })
    try {
      const port = await freePort()
      const worker = spawnMain(['--role', 'worker'], { DATABASE_URL: gateway.db.url, DATA_DIR: gateway.dataDir, HOST: '127.0.0.1', HEALTH_PORT: String(port), LOG_LEVEL: 'warn' })
      const base = `http://127.0.0.1:${port}`
      const ready = await eventually(async () => {
        if (!isRunning(worker)) throw new Error(`the worker exited: ${worker.stderr()}`)
        const r = await get(`${base}/ready`)
        return r.status === 200 ? r : undefined
      }, 30_000, 'the worker to be ready')
      expect(ready.body).toEqual({
        status: 'ready',
        checks: { process: 'ok', database: 'ok', migrations: 'ok', queue: 'ok', 'listener:finish-watcher': 'ok' }
      })
      expect(await get(`${base}/health`)).toEqual({ status: 200, body: { status: 'alive' } })
      expect((await get(`${base}/graphql`)).status).toBe(404)

      worker.process.kill('SIGTERM')
      expect((await worker.exited).code).toBe(0)
    } finally {
      await killAll()
      await gateway.stop()
    }
  })
})
