import pg from 'pg'

/**
 * What a database did, counted by PostgreSQL itself (statements: those the clients sent, not the ones
 * triggers and functions run inside them): these figures do not drift with the machine's
 * load, unlike times. Statements and rows come from pg_stat_statements (exact, updated as each
 * statement ends), transactions from pg_stat_database (flushed by each backend at most once a
 * second, and when it exits: read after the processes stopped). The suite's own snapshots are left out.
 */
export interface DbCost {
  /** Statements run, transaction control (BEGIN, COMMIT, SAVEPOINT …) and foreign key checks left out; null without pg_stat_statements. */
  readonly statements: number | null
  /** Transactions committed or rolled back. */
  readonly transactions: number
  /** Rows inserted, updated or deleted (heap tuples, indexes not counted). */
  readonly rowsWritten: number
  /** WAL records written by the statements (rows and their index entries); null without pg_stat_statements. */
  readonly walRecords: number | null
}

const CONTROL = /^\s*(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW|LISTEN|UNLISTEN|DISCARD)\b/i
/**
 * A foreign key's check, run by PostgreSQL for each row written (ri_triggers.c's text): pg_stat_statements
 * files it as a top-level statement even with `track = top`, so that a 1,000-job pg-boss insert counted
 * 2,000 statements more than the one the client sent.
 */
const FOREIGN_KEY_CHECK = /^\s*SELECT \$?\d+ FROM ONLY \S+ x WHERE .* FOR (KEY )?SHARE OF x\s*$/is

/** Whether a pg_stat_statements entry is a statement a client sent and the table counts: not transaction control, not a foreign key check. */
export function isCountedStatement (query: string): boolean {
  return !CONTROL.test(query) && !FOREIGN_KEY_CHECK.test(query)
}

/** The counters of the database `url` names, now. */
export async function readDbCost (url: string): Promise<DbCost> {
  const client = new pg.Client({ connectionString: url, application_name: 'bench:db-cost' })
  await client.connect()
  try {
    const { rows: [db] } = await client.query<{ transactions: string, rows_written: string }>(
      `SELECT xact_commit + xact_rollback AS transactions, tup_inserted + tup_updated + tup_deleted AS rows_written
       FROM pg_stat_database WHERE datname = current_database()`)
    let statements: number | null = null
    let walRecords: number | null = null
    try {
      const { rows } = await client.query<{ query: string, calls: string, wal_records: string }>(
        `SELECT query, calls, wal_records FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat_%'`)
      statements = rows.filter(row => isCountedStatement(row.query)).reduce((sum, row) => sum + Number(row.calls), 0)
      walRecords = rows.reduce((sum, row) => sum + Number(row.wal_records), 0)
    } catch {
      // No pg_stat_statements on this server (DATABASE_URL without it in shared_preload_libraries).
    }
    return { statements, transactions: Number(db!.transactions), rowsWritten: Number(db!.rows_written), walRecords }
  } finally {
    await client.end()
  }
}

/** What happened between two readings, per unit of work (an order, a job). */
export function costPer (before: DbCost, after: DbCost, units: number): DbCost {
  const per = (a: number | null, b: number | null): number | null => a === null || b === null ? null : (b - a) / units
  return {
    statements: per(before.statements, after.statements),
    transactions: (after.transactions - before.transactions) / units,
    rowsWritten: (after.rowsWritten - before.rowsWritten) / units,
    walRecords: per(before.walRecords, after.walRecords)
  }
}

/** `12.0 st, 3.0 tx, 10.0 rows, 25.0 wal` for the table. */
export function formatCost (cost: DbCost | null | undefined): string {
  if (!cost) return '—'
  const n = (value: number | null): string => value === null ? '?' : value.toFixed(value < 10 ? 2 : 1)
  return `${n(cost.statements)} st, ${n(cost.transactions)} tx, ${n(cost.rowsWritten)} rows, ${n(cost.walRecords)} wal`
}

/**
 * Waits until every backend has flushed its counters to pg_stat_database: a busy one flushes at
 * most once a second, an idle one within 10 s, an exiting one at once. Called before a "before"
 * reading (the warm-up's counters must not land in the measured run) and after the processes of
 * a measured run stopped.
 */
export async function settleStats (idle: boolean): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, idle ? 11_000 : 1500))
}
