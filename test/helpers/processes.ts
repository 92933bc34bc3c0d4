import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The real entry point, run as `node src/main.ts …` from the repository root, as `npm start` does. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface Child {
  readonly process: ChildProcess
  /** Everything the child wrote to stderr so far (its log, and the fatal line). */
  stderr (): string
  /** Everything the child wrote to stdout so far. */
  stdout (): string
  /** Resolves when the child has exited. */
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

const children: Child[] = []

export function spawnMain (args: readonly string[], env: Record<string, string>): Child {
  return spawnNode(['src/main.ts', ...args], env)
}

/** `node <args>` from the repository root, with stdout collected too. */
export function spawnNode (args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  let stdout = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8') })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    // 'close', not 'exit': stderr is fully read by then.
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  const handle = { process: child, stderr: () => stderr, stdout: () => stdout, exited }
  children.push(handle)
  return handle
}

export function isRunning (child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null
}

/** SIGKILLs every child spawned by this test file that still runs; for afterAll. */
export async function killAll (): Promise<void> {
  for (const child of children) {
    if (isRunning(child)) child.process.kill('SIGKILL')
    await child.exited
  }
}

export function lines (text: string): string[] {
  return text.split('\n').filter(line => line.trim() !== '')
}

export { freePort } from '../../src/platform/db/embedded.ts'
