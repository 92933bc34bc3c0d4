import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from './helpers/gateway.ts'

// A gateway killed during an upload never deletes its spool file (src/operations/spool.ts): the next
// gateway to start on the machine removes the spools of gateways that are gone, and only those.

/** A pid that was in use a moment ago and is no longer: a child that has exited. */
async function pidOfExitedProcess (): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await once(child, 'exit')
  return child.pid!
}

describe('upload spools left by a gateway that is gone', () => {
  let gateway: TestGateway | undefined
  const live = path.join(os.tmpdir(), `oog-upload-${process.pid}-cleanup-test`)
  afterAll(async () => {
    await gateway?.stop()
    await rm(live, { recursive: true, force: true })
  })

  it('are removed when a gateway starts, and a running gateway\'s are kept', async () => {
    const orphan = path.join(os.tmpdir(), `oog-upload-${await pidOfExitedProcess()}-cleanup-test`)
    for (const dir of [orphan, live]) {
      await mkdir(dir, { recursive: true })
      await writeFile(path.join(dir, 'operations.jsonl'), '{}\n')
    }
    gateway = await startGateway({ roles: ['gateway'] })
    expect(existsSync(orphan)).toBe(false)
    expect(existsSync(path.join(live, 'operations.jsonl'))).toBe(true)
  })
})
