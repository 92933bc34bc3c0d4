import { spawn, type ChildProcess } from 'node:child_process'
import { ROOT, stopChild } from './gateway.ts'

/**
 * Baselines run as child processes of their own, like the gateway, so that neither shares an event
 * loop or a CPU budget with the bench process. The protocol: parameters as JSON in argv[2]; the
 * child prints `ready <json>` when a long-lived one is listening, and `result <json>` when done.
 */
function launch (script: string, params: object): ChildProcess {
  return spawn(process.execPath, [script, JSON.stringify(params)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
}

function lines (child: ChildProcess, onLine: (line: string) => void): void {
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8')
    const all = buffered.split('\n')
    buffered = all.pop() ?? ''
    for (const line of all) onLine(line)
  })
}

/** Runs a baseline to completion and returns what it printed as its result. */
export async function runChild<T> (script: string, params: object): Promise<T> {
  const child = launch(script, params)
  return await new Promise<T>((resolve, reject) => {
    let result: T | undefined
    lines(child, (line) => { if (line.startsWith('result ')) result = JSON.parse(line.slice(7)) as T })
    child.once('exit', (code) => result !== undefined && code === 0 ? resolve(result) : reject(new Error(`${script} exited with ${code} and no result`)))
  })
}

export interface RunningChild<T> {
  readonly info: T
  stop (): Promise<void>
}

/** Starts a long-lived baseline (a server) and waits for its `ready` line. */
export async function startChild<T> (script: string, params: object): Promise<RunningChild<T>> {
  const child = launch(script, params)
  const info = await new Promise<T>((resolve, reject) => {
    lines(child, (line) => { if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)) as T) })
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)))
  })
  return { info, stop: async () => await stopChild(child) }
}
