import pg from 'pg'
import type { Logger } from '../log.ts'
import { isConnectionLost } from '../jobs/errors.ts'

// int8 (count(*), sums) as JS numbers: our counts stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number.parseInt(value, 10))

/** A statement as our query modules build it: text with `$n` placeholders and its values. */
export interface Query {
  readonly text: string
  readonly values: readonly unknown[]
  /** A name makes pg prepare the statement once per connection. */
  readonly name?: string
}

/** Anything that runs a query: the pool, a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any> (query: pg.QueryConfig): Promise<pg.QueryResult<R>>
}

/** What pg-boss takes as its `db` option, to run its statements on our connection. */
export interface BossDb {
  executeSql (text: string, values?: unknown[]): Promise<{ rows: any[] }>
}

/** Where our queries run: the pool, or a client inside a transaction. */
export type Db = Queryable

/**
 * Bounds on how long the gateway's own pool waits for and holds a connection (issue #12, item 1), so
 * that a stuck caller cannot keep the others waiting without end. Each 0 turns its bound off.
 */
export interface PoolTimeouts {
  /** `DB_ACQUIRE_TIMEOUT_MS`, default 30000: how long a caller waits for a free connection (or a new one) before it fails, transiently. */
  readonly acquireMs: number
  /** `DB_STATEMENT_TIMEOUT_MS`, default 60000: PostgreSQL's `statement_timeout` on each connection; a statement running longer is canceled (SQLSTATE 57014, transient). */
  readonly statementMs: number
  /** `DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`, default 60000: PostgreSQL's `idle_in_transaction_session_timeout`; a session idle this long inside a transaction is ended and its transaction rolled back. */
  readonly idleInTransactionMs: number
}

/** The process's pool. Without `timeouts` (the CLI's one-off scripts) nothing is bounded. */
export function createPool (connectionString: string, max: number, applicationName: string, log: Logger, timeouts?: PoolTimeouts): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: applicationName,
    ...(timeouts === undefined
      ? {}
      : { connectionTimeoutMillis: timeouts.acquireMs, statement_timeout: timeouts.statementMs, idle_in_transaction_session_timeout: timeouts.idleInTransactionMs })
  })
  // An idle client's connection can drop (server restart); the pool replaces it. Log, never crash.
  pool.on('error', (error) => log.warn('idle database connection failed', { error }))
  // A checked-out client's connection can drop too (pg_terminate_backend, a failover) while its
  // holder awaits something else between two statements (a transaction reading an upload, the
  // runner calling pg-boss): pg then emits 'error' on the client, which with no listener is an
  // uncaught exception that ends the process. The holder learns of it from its next statement.
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn('database connection lost while in use', { error }))
  })
  return pool
}

export async function run<R extends pg.QueryResultRow = any> (db: Db, query: Query): Promise<R[]> {
  const result = await db.query<R>({ text: query.text, values: [...query.values], ...(query.name ? { name: query.name } : {}) })
  return result.rows
}

export interface TransactionOptions {
  /**
   * Asked when the connection was lost while the COMMIT was under way, so that the client cannot
   * tell whether PostgreSQL committed: answers, on another connection of `pool`, whether it did. It
   * must wait for the lost transaction to end (a row lock, or a unique key it wrote, makes a
   * statement wait). True: `transaction` returns the work's result as if the COMMIT had answered.
   * Without it, or when it fails itself, the lost connection's error is thrown.
   */
  readonly committed?: (pool: pg.Pool) => Promise<boolean>
}

/** Runs `work` in one transaction on one pooled client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function transaction<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const client = await pool.connect()
  let result: T
  try {
    await client.query('BEGIN')
    result = await work(client)
  } catch (error) {
    let broken: Error | undefined
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
    // A client whose rollback failed has a broken connection: destroy it rather than reuse it.
    client.release(broken)
    throw error
  }
  try {
    await client.query('COMMIT')
  } catch (error) {
    // A COMMIT the server refused ended the transaction and leaves the connection usable; a lost one does not.
    const lost = isConnectionLost(error)
    client.release(lost ? error as Error : undefined)
    if (lost && options.committed !== undefined && await options.committed(pool).catch(() => false)) return result
    throw error
  }
  client.release()
  return result
}

/** Runs `work` in a transaction that is always rolled back, and answers what it answered: for probes that must write to find out. */
export async function rolledBack<T> (pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    return await work(client)
  } finally {
    await client.query('ROLLBACK').catch((rollbackError: Error) => { broken = rollbackError })
    client.release(broken)
  }
}

/**
 * Runs `work` in one transaction on a client the caller holds (and releases): COMMIT when it
 * resolves, ROLLBACK when it throws. For work that must stay on one connection across several
 * transactions (a session-level advisory lock, a pool of one).
 */
export async function transactionOn<T> (client: pg.PoolClient, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/** The adapter pg-boss takes as `db` so that its statements join our transaction. */
export function bossDb (client: Queryable): BossDb {
  return { executeSql: async (text, values) => await client.query({ text, values: values ?? [] }) }
}

/** SQLSTATE deadlock_detected. */
const DEADLOCK = '40P01'

/**
 * Runs `work` again when PostgreSQL aborted it to break a deadlock (up to `attempts` times in all):
 * for work whose locks cannot be taken in the order other writers take theirs, and which is safe
 * to run again from the start (one transaction, rolled back whole).
 */
export async function retryOnDeadlock<T> (work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if ((error as { code?: unknown }).code !== DEADLOCK || attempt >= attempts) throw error
    }
  }
}
