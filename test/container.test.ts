import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadConfig } from '../src/config/config.ts'

// Docker cannot run here: these read the Dockerfile and compose.yaml and check what can be checked
// without it, against the code they run.
const read = (file: string): string => fs.readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')

interface Instruction { readonly op: string, readonly args: string }

/** The Dockerfile's instructions, continuation lines joined, comments left out. */
function instructions (text: string): Instruction[] {
  const joined = text.split('\n').filter(line => !line.trimStart().startsWith('#')).join('\n').replace(/\\\n/g, ' ')
  return joined.split('\n').map(line => line.trim()).filter(line => line !== '').map(line => {
    const [op, ...rest] = line.split(/\s+/)
    return { op: op!.toUpperCase(), args: rest.join(' ') }
  })
}

/** Every variable the configuration (src/config/) and the tracing entry (src/otel.ts) read. */
function variablesRead (): Set<string> {
  const sources = [...fs.readdirSync(new URL('../src/config/', import.meta.url)).map(file => `src/config/${file}`), 'src/otel.ts']
  const names = new Set<string>()
  for (const file of sources) {
    for (const match of read(file).matchAll(/env\.([A-Z][A-Z0-9_]+)|'([A-Z][A-Z0-9_]{2,})'/g)) names.add(match[1] ?? match[2]!)
  }
  return names
}

/** Compose's interpolation of `${NAME}`, `${NAME:-default}` and `${NAME:?error}` from `env`. */
function interpolate (value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_all, name: string, kind?: string, rest?: string) => {
    if (env[name] !== undefined && env[name] !== '') return env[name]
    if (kind === '?') throw new Error(`${name}: ${rest ?? ''}`)
    return kind === '-' ? rest ?? '' : ''
  })
}

const dockerfile = instructions(read('Dockerfile'))
const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, { image?: string, build?: unknown, command?: string[], ports?: string[], environment?: Record<string, string>, deploy?: { replicas?: number }, user?: string }>
}
const shell = { ADMIN_TOKEN: 'a'.repeat(48) }

describe('the Dockerfile', () => {
  const stages = dockerfile.filter(i => i.op === 'FROM')
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf(stages.at(-1)!))

  it('builds in stages on the Node slim image of the Node the project pins, installing production dependencies only', () => {
    const major = read('.nvmrc').trim()
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of stages) expect(stage.args).toMatch(new RegExp(`^node:${major}-slim\\b`))
    expect(dockerfile.some(i => i.op === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true)
    expect(dockerfile.some(i => i.op === 'COPY' && /^--from=deps \/app\/node_modules/.test(i.args))).toBe(true)
    // What the process reads at run time: its sources (and the dashboard's files among them) and the migrations.
    const copied = lastStage.filter(i => i.op === 'COPY').map(i => i.args)
    expect(copied).toEqual(expect.arrayContaining(['migrations ./migrations', 'src ./src']))
  })

  it('runs as the unprivileged node user, on the port the gateway listens on, with a health check on /ready', () => {
    const user = lastStage.filter(i => i.op === 'USER').at(-1)
    expect(user?.args).toBe('node')
    expect(lastStage.findIndex(i => i.op === 'USER')).toBeLessThan(lastStage.findIndex(i => i.op === 'ENTRYPOINT'))
    const env = lastStage.find(i => i.op === 'ENV')!.args
    const port = /\bPORT=(\d+)/.exec(env)![1]
    expect(lastStage.find(i => i.op === 'EXPOSE')?.args).toBe(port)
    const healthcheck = lastStage.find(i => i.op === 'HEALTHCHECK')!.args
    expect(healthcheck).toContain('/ready')
    expect(healthcheck).toMatch(/HEALTH_PORT \|\| process\.env\.PORT/)
    expect(JSON.parse(lastStage.find(i => i.op === 'ENTRYPOINT')!.args)).toEqual(['node', '--import', './src/otel.ts', 'src/main.ts'])
    // The variables the image sets are ones the configuration reads, with values it accepts.
    const names = [...env.matchAll(/([A-Z_]+)=/g)].map(m => m[1]!)
    expect(names.filter(name => !variablesRead().has(name) && name !== 'NODE_ENV')).toEqual([])
  })

  it('leaves the dependencies, the local database and the repository out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map(line => line.trim()).filter(line => line !== '' && !line.startsWith('#'))
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.data', '.git']))
    expect(ignored).not.toContain('src')
    expect(ignored).not.toContain('migrations')
  })
})

describe('compose.yaml', () => {
  const { services } = compose

  it('runs PostgreSQL, one gateway, two workers, a mail catcher and pg-boss\'s dashboard', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'mailpit', 'pgboss-dashboard', 'postgres', 'worker'])
    expect(services.gateway!.build).toBe('.')
    expect(services.gateway!.command).toEqual(['--role', 'gateway'])
    expect(services.worker!.image).toBe(services.gateway!.image)
    expect(services.worker!.build).toBe('.')
    expect(services.worker!.command).toEqual(['--role', 'worker'])
    expect(services.worker!.deploy?.replicas).toBe(2)
    expect(services.mailpit!.image).toMatch(/^axllent\/mailpit:/)
    expect(services['pgboss-dashboard']!.command!.join(' ')).toContain('@pg-boss/dashboard@')
  })

  it('names only variables the configuration reads, with values it accepts, the same database everywhere', () => {
    const known = variablesRead()
    for (const name of ['gateway', 'worker']) {
      const environment = services[name]!.environment!
      expect(Object.keys(environment).filter(variable => !known.has(variable))).toEqual([])
      const env = Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, interpolate(String(value), shell)]))
      const config = loadConfig(env, [name as 'gateway' | 'worker'])
      expect(config.databaseUrl).toBe(services['pgboss-dashboard']!.environment!.DATABASE_URL)
      expect(config.bossSchema).toBe(services['pgboss-dashboard']!.environment!.PGBOSS_SCHEMA)
      // Emails go to the mail catcher's SMTP port (1025); its web page is published.
      expect(env.SMTP_URL).toBe('smtp://mailpit:1025')
    }
    expect(() => interpolate(services.gateway!.environment!.ADMIN_TOKEN!, {})).toThrow(/ADMIN_TOKEN/)
    expect(services.mailpit!.ports).toContain('8025:8025')
  })

  it('publishes the gateway on its PORT and the dashboard where PGBOSS_DASHBOARD_URL says; the workers answer /ready on HEALTH_PORT', () => {
    const gateway = services.gateway!.environment!
    expect(services.gateway!.ports).toEqual([`${gateway.PORT}:${gateway.PORT}`])
    const dashboard = new URL(gateway.PGBOSS_DASHBOARD_URL!)
    expect(services['pgboss-dashboard']!.ports).toEqual([`${dashboard.port}:${services['pgboss-dashboard']!.environment!.PORT}`])
    expect(Number(services.worker!.environment!.HEALTH_PORT)).toBeGreaterThan(0)
    expect(services['pgboss-dashboard']!.user).toBe('node')
  })
})
