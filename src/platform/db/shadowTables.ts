import type pg from 'pg'
import { run, type Db } from './pool.ts'
import * as sql from './shadowSql.ts'

/**
 * Shadow tables: a table rebuilt beside the live one, then swapped in, so that a rebuild never
 * locks the live table for longer than the swap (issue 13, item 9).
 *
 * `createShadows` makes an empty copy of each table in a schema of its own (same columns,
 * defaults, constraints, indexes, foreign keys and storage options). The caller fills the copies
 * (within `inShadow`, its own statements, which name the tables unqualified, write them),
 * and calls `swapShadows` in a transaction that holds ACCESS EXCLUSIVE locks on the live tables:
 * each live table is dropped and its copy moved into its place, under the live indexes' names,
 * with the live table's triggers and privileges. A view or another table's foreign key on a live
 * table makes the drop fail: the transaction rolls back and the live tables are left as they were.
 */

export interface ShadowSet {
  /** The schema of the live tables. */
  readonly liveSchema: string
  /** The schema the copies are built in. */
  readonly shadowSchema: string
  readonly tables: readonly string[]
}

/** Empty copies of `tables` (found on the search path) in `shadowSchema`, dropped and made again if it exists. */
export async function createShadows (db: Db, shadowSchema: string, tables: readonly string[]): Promise<ShadowSet> {
  const [first] = await run<{ schema: string }>(db, sql.selectSchemaOf(tables[0]!))
  if (first === undefined) throw new Error(`no table ${tables[0]!} to shadow`)
  const liveSchema = first.schema
  await run(db, sql.dropSchema(shadowSchema))
  await run(db, sql.createSchema(shadowSchema))
  for (const table of tables) {
    await run(db, sql.createTableLike(shadowSchema, liveSchema, table))
    // Kept by the copy as they are by the live table while it fills (ON DELETE SET NULL applies to it too).
    for (const key of await run<{ name: string, definition: string }>(db, sql.selectForeignKeys(liveSchema, table))) {
      await run(db, sql.addConstraint(shadowSchema, table, key.name, key.definition))
    }
    const [{ options } = { options: null }] = await run<{ options: string[] | null }>(db, sql.selectOptions(liveSchema, table))
    if (options !== null) await run(db, sql.setOptions(shadowSchema, table, options))
  }
  return { liveSchema, shadowSchema, tables }
}

/**
 * Runs `work` with the shadow schema first on the search path, inside the transaction `tx` is in,
 * so that statements naming the tables unqualified (the live path's own) write the copies; the
 * search path is the transaction's again afterwards.
 */
export async function inShadow<T> (tx: Db, shadows: ShadowSet, work: () => Promise<T>): Promise<T> {
  const [{ path } = { path: '' }] = await run<{ path: string }>(tx, sql.selectSearchPath())
  await run(tx, sql.searchShadowFirst(shadows.shadowSchema))
  const result = await work()
  await run(tx, sql.setSearchPath(path))
  return result
}

/**
 * Takes the live tables' ACCESS EXCLUSIVE locks, waiting at most `lockTimeoutMs` (then PostgreSQL
 * fails with 55P03, lock_not_available, and nothing is held): readers and writers wait from here
 * until the transaction ends, so what follows must be short.
 */
export async function lockLiveTables (tx: Db, shadows: ShadowSet, lockTimeoutMs: number): Promise<void> {
  await run(tx, sql.setLockTimeout(lockTimeoutMs))
  await run(tx, sql.lockTables(shadows.liveSchema, shadows.tables))
}

/** Swaps each copy in for its live table; in the caller's transaction, after lockLiveTables. */
export async function swapShadows (tx: Db, shadows: ShadowSet): Promise<void> {
  const { liveSchema, shadowSchema } = shadows
  for (const table of shadows.tables) {
    const triggers = await run<{ definition: string }>(tx, sql.selectTriggers(liveSchema, table))
    const grants = await run<{ privilege: string, grantee: string }>(tx, sql.selectGrants(liveSchema, table))
    const liveIndexes = await run<{ name: string, shape: string }>(tx, sql.selectIndexes(liveSchema, table))
    const copyIndexes = await run<{ name: string, shape: string }>(tx, sql.selectIndexes(shadowSchema, table))
    await run(tx, sql.dropTable(liveSchema, table))
    await run(tx, sql.setSchema(shadowSchema, table, liveSchema))
    // The copy's indexes take the live ones' names, which later migrations may refer to.
    const unnamed = [...copyIndexes]
    for (const live of liveIndexes) {
      const at = unnamed.findIndex(copy => copy.shape === live.shape)
      if (at === -1) continue
      const [copy] = unnamed.splice(at, 1)
      if (copy!.name !== live.name) await run(tx, sql.renameIndex(liveSchema, copy!.name, live.name))
    }
    for (const trigger of triggers) await run(tx, { text: trigger.definition, values: [] })
    for (const { privilege, grantee } of grants) await run(tx, sql.grant(liveSchema, table, privilege, grantee))
  }
}

/** Planner statistics for the tables just swapped in (a new table has none). */
export async function analyzeLive (db: Db, shadows: ShadowSet): Promise<void> {
  for (const table of shadows.tables) await run(db, sql.analyze(shadows.liveSchema, table))
}

/** Drops the shadow schema and anything left in it (after a swap, or a rebuild that failed). */
export async function dropShadows (db: pg.PoolClient | Db, shadowSchema: string): Promise<void> {
  await run(db, sql.dropSchema(shadowSchema))
}
