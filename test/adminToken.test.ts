import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from './helpers/database.ts'
import { eventually, startGateway, type TestGateway } from './helpers/gateway.ts'
import { isRunning, killAll, spawnMain } from './helpers/processes.ts'

// Issue 12, item 7: ADMIN_TOKEN can be revoked and rotated; a process's start never undoes either.

const BULKS = '{ bulks(first: 1) { edges { cursor } } }'
const newAdminToken = (): string => `admin-${randomBytes(24).toString('hex')}`

let db: TestDatabase
let dataDir: string
let gateway: TestGateway
/** An admin token of its own (not ADMIN_TOKEN's), to revoke ADMIN_TOKEN's with. */
let ops: string
const first = newAdminToken()
beforeAll(async () => {
  db = await createTestDatabase()
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'admin-token-'))
  gateway = await startGateway({ roles: ['gateway'], db, env: { ADMIN_TOKEN: first } })
  ops = await gateway.createToken('ops', 'ADMIN')
})
afterAll(async () => {
  await killAll()
  await gateway?.stop()
  await db?.drop()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

/** Starts `npm run worker` with this ADMIN_TOKEN, waits until it has started, stops it; returns its log. */
async function restartWorker (adminToken: string): Promise<string> {
  const worker = spawnMain(['--role', 'worker'], { DATABASE_URL: db.url, ADMIN_TOKEN: adminToken, DATA_DIR: dataDir, LOG_LEVEL: 'info' })
  await eventually(async () => {
    if (!isRunning(worker)) throw new Error(`the worker exited: ${worker.stderr()}`)
    return worker.stderr().includes('workers started') ? true : undefined
  }, 60_000, 'the worker to start')
  worker.process.kill('SIGTERM')
  expect((await worker.exited).code).toBe(0)
  return worker.stderr()
}

async function accepted (token: string): Promise<boolean> {
  const { errors } = await gateway.gql(BULKS, {}, token)
  if (errors !== undefined && errors[0]?.extensions?.code !== 'UNAUTHENTICATED') throw new Error(JSON.stringify(errors))
  return errors === undefined
}

/** Polls until the gateway accepts (or refuses) the token: it hears of token changes by NOTIFY, a moment after their commit. */
async function becomes (token: string, wanted: boolean): Promise<void> {
  await eventually(async () => await accepted(token) === wanted ? true : undefined, 10_000, `the token to be ${wanted ? 'accepted' : 'refused'}`)
}

async function revokedAt (token: string): Promise<Date | null> {
  const { rows: [row] } = await gateway.sql.query('SELECT revoked_at FROM api_token WHERE token_hash = $1', [createHash('sha256').update(token).digest('hex')])
  return row.revoked_at
}

describe('ADMIN_TOKEN', () => {
  let second: string
  it('retires the previous value when a process starts with a new one, and a late process with the old value retires nothing', async () => {
    expect(await accepted(first)).toBe(true)
    second = newAdminToken()
    await restartWorker(second)
    await becomes(second, true)
    await becomes(first, false)
    expect(await revokedAt(first)).not.toBeNull()

    // A process of the old deployment, started late.
    const log = await restartWorker(first)
    expect(log).toContain('ADMIN_TOKEN is revoked')
    expect(await revokedAt(first)).not.toBeNull()
    expect(await revokedAt(second)).toBeNull()
    expect(await accepted(second)).toBe(true)
    expect(await accepted(first)).toBe(false)
  })

  it('stays revoked when revoked: a worker restarted with it does not bring it back', async () => {
    const { data } = await gateway.gql('{ apiTokens { id owner revokedAt } }', {}, ops)
    const live = data.apiTokens.filter((token: any) => token.owner === 'admin' && token.revokedAt === null)
    expect(live).toHaveLength(1)
    const revoked = await gateway.gql('mutation ($id: ID!) { revokeApiToken(id: $id) { revokedAt } }', { id: live[0].id }, ops)
    expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull()
    expect(await accepted(second)).toBe(false)

    const log = await restartWorker(second)
    expect(log).toContain('ADMIN_TOKEN is revoked')
    expect(await revokedAt(second)).not.toBeNull()
    // Whatever a notification of the worker's start could have changed has arrived by now.
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(await accepted(second)).toBe(false)
    expect(await accepted(ops)).toBe(true)
  })
})
