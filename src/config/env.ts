import { ConfigError } from '../platform/configError.ts'

/** The environment as the entry point read it: only src/main.ts and the CLI pass process.env. */
export type Env = Readonly<Record<string, string | undefined>>

export function integer (env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

export function optionalInteger (env: Env, name: string, min: number, max: number): number | undefined {
  return env[name] === undefined || env[name]?.trim() === '' ? undefined : integer(env, name, 0, min, max)
}

export function oneOf<T extends string> (env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)
  }
  return raw as T
}

export function flag (env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return fallback
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(`${name} must be true or false, got "${env[name] ?? ''}"`)
}

export function secret (env: Env, name: string): string | undefined {
  const raw = env[name]
  if (raw === undefined || raw === '') return undefined
  if (raw.length < 16) throw new ConfigError(`${name} must be at least 16 characters (use a random value, e.g. openssl rand -hex 32)`)
  return raw
}

export function rate (env: Env, name: string): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return 0
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`${name} must be a number from 0 to 1, got "${raw}"`)
  return value
}

export function httpUrl (env: Env, name: string, example: string): string | undefined {
  const raw = env[name]?.trim()
  if (!raw) return undefined
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(`${name} must be an http(s) URL such as ${example}, got "${raw}"`)
  return url.toString()
}
