import pg from 'pg'
import type { Query } from './pool.ts'

/**
 * The statements of shadow tables (src/platform/db/shadowTables.ts). Identifiers come only from the
 * caller's constants and the catalog, quoted here; DDL that the catalog prints (a trigger's, a
 * constraint's definition) is run as PostgreSQL printed it.
 */

const ident = (name: string): string => pg.escapeIdentifier(name)
const qualified = (schema: string, table: string): string => `${ident(schema)}.${ident(table)}`

export function dropSchema (schema: string): Query {
  return { text: `DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`, values: [] }
}

export function createSchema (schema: string): Query {
  return { text: `CREATE SCHEMA ${ident(schema)}`, values: [] }
}

/** The schema a table is found in on the search path. */
export function selectSchemaOf (table: string): Query {
  return { text: 'SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)', values: [table] }
}

/** An empty copy of a table: columns, defaults, NOT NULL and CHECK constraints, indexes, comments, storage (not triggers, foreign keys, options or privileges). */
export function createTableLike (shadowSchema: string, liveSchema: string, table: string): Query {
  return { text: `CREATE TABLE ${qualified(shadowSchema, table)} (LIKE ${qualified(liveSchema, table)} INCLUDING ALL)`, values: [] }
}

/** A table's foreign keys (to other tables), as their names and definitions. */
export function selectForeignKeys (schema: string, table: string): Query {
  return {
    text: `SELECT conname AS name, pg_get_constraintdef(oid) AS definition FROM pg_constraint
      WHERE conrelid = to_regclass($1) AND contype = 'f' ORDER BY conname`,
    values: [`${ident(schema)}.${ident(table)}`]
  }
}

/** `definition` as pg_get_constraintdef printed it; run with the live schema on the search path. */
export function addConstraint (schema: string, table: string, name: string, definition: string): Query {
  return { text: `ALTER TABLE ${qualified(schema, table)} ADD CONSTRAINT ${ident(name)} ${definition}`, values: [] }
}

/** A table's storage options (`fillfactor=70`, autovacuum settings), or null. */
export function selectOptions (schema: string, table: string): Query {
  return { text: 'SELECT reloptions AS options FROM pg_class WHERE oid = to_regclass($1)', values: [`${ident(schema)}.${ident(table)}`] }
}

export function setOptions (schema: string, table: string, options: readonly string[]): Query {
  const pairs = options.map(option => {
    const at = option.indexOf('=')
    return `${ident(option.slice(0, at))} = ${pg.escapeLiteral(option.slice(at + 1))}`
  })
  return { text: `ALTER TABLE ${qualified(schema, table)} SET (${pairs.join(', ')})`, values: [] }
}

/** A table's own triggers, as the CREATE TRIGGER statements that make them. */
export function selectTriggers (schema: string, table: string): Query {
  return {
    text: 'SELECT pg_get_triggerdef(oid) AS definition FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal ORDER BY tgname',
    values: [`${ident(schema)}.${ident(table)}`]
  }
}

/**
 * A table's indexes: each name and its definition without that name and table, so that the same
 * index on two tables compares equal (`CREATE UNIQUE INDEX ON USING btree (order_number)`).
 */
export function selectIndexes (schema: string, table: string): Query {
  return {
    text: `SELECT c.relname AS name,
        regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON (ONLY )?\\S+ ', 'CREATE \\1INDEX ON ') AS shape
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass($1) ORDER BY c.relname`,
    values: [`${ident(schema)}.${ident(table)}`]
  }
}

/** The privileges granted on a table to roles other than its owner (PUBLIC included). */
export function selectGrants (schema: string, table: string): Query {
  return {
    text: `SELECT a.privilege_type AS privilege, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS grantee
      FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
      WHERE c.oid = to_regclass($1) AND a.grantee <> c.relowner`,
    values: [`${ident(schema)}.${ident(table)}`]
  }
}

/** `privilege` from aclexplode (SELECT, INSERT, …), `grantee` quoted already (or PUBLIC). */
export function grant (schema: string, table: string, privilege: string, grantee: string): Query {
  if (!/^[A-Z ]+$/.test(privilege)) throw new Error(`not a privilege: ${privilege}`)
  return { text: `GRANT ${privilege} ON ${qualified(schema, table)} TO ${grantee}`, values: [] }
}

export function dropTable (schema: string, table: string): Query {
  return { text: `DROP TABLE ${qualified(schema, table)}`, values: [] }
}

export function setSchema (fromSchema: string, table: string, toSchema: string): Query {
  return { text: `ALTER TABLE ${qualified(fromSchema, table)} SET SCHEMA ${ident(toSchema)}`, values: [] }
}

export function renameIndex (schema: string, from: string, to: string): Query {
  return { text: `ALTER INDEX ${qualified(schema, from)} RENAME TO ${ident(to)}`, values: [] }
}

export function selectSearchPath (): Query {
  return { text: "SELECT current_setting('search_path') AS path", values: [] }
}

/** Sets the search path until the transaction ends (SET LOCAL). */
export function setSearchPath (path: string): Query {
  return { text: "SELECT set_config('search_path', $1, true)", values: [path] }
}

/** Puts `schema` first on the search path until the transaction ends (SET LOCAL). */
export function searchShadowFirst (schema: string): Query {
  return { text: "SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)", values: [ident(schema)] }
}

/** How long a statement of this transaction waits for a lock before it fails with 55P03 (SET LOCAL). */
export function setLockTimeout (ms: number): Query {
  return { text: "SELECT set_config('lock_timeout', $1, true)", values: [`${ms}ms`] }
}

export function lockTables (schema: string, tables: readonly string[]): Query {
  return { text: `LOCK TABLE ${tables.map(table => qualified(schema, table)).join(', ')} IN ACCESS EXCLUSIVE MODE`, values: [] }
}

export function analyze (schema: string, table: string): Query {
  return { text: `ANALYZE ${qualified(schema, table)}`, values: [] }
}
