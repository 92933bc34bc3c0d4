import { createHash, randomUUID } from 'node:crypto'
import pg from 'pg'
import type { Query } from '../../src/platform/db/pool.ts'
import { insertBulkWithOperations, operationRow, operationRows, type NewBulk, type NewOperation } from '../../src/operations/sql/bulks.ts'
import { BULK_KIND } from '../../src/operations/domain/kind.ts'
import { OPERATION_STATUS } from '../../src/operations/domain/status.ts'
import { cpuMsOfTree } from '../lib/cpu.ts'
import { costPer, readDbCost, settleStats, type DbCost } from '../lib/dbCost.ts'
import { order } from '../lib/orders.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, now, round } from '../lib/stats.ts'

const BULK = 1000
/** The gateway's chunk size (DEFAULT_CHUNK_SIZE): a 1,000-order bulk is carried by two chunk jobs. */
const CHUNK_JOB = 500
const WARM_UP = 3

/**
 * What each part of the operation insert costs (issue 17, item 1): 1,000-operation bulks written
 * by the gateway's own statement (insertBulkWithOperations, one transaction each) into databases
 * that differ from the migrated schema by one thing: an index, constraint or insert trigger of
 * `operation` dropped, or the rows bound another way. The databases take turns bulk by bulk, in an
 * order that rotates, so that the machine's load falls on all of them alike; each figure is the
 * median statement time, and the ratio is the migrated schema's ÷ the variant's (above 1: the
 * variant is cheaper). WAL records per operation, counted by PostgreSQL, do not drift with the load.
 */
export const insertCosts: Scenario = {
  name: 'insert-costs',
  async run (context: ScenarioContext): Promise<Row[]> {
    const bulks = context.settings.insertBulks
    const asIs = await context.createDatabase()
    const variants: Variant[] = [{ name: 'as migrated', url: asIs, ddl: [], binding: null }]
    for (const part of await droppableParts(asIs)) {
      variants.push({ name: `without ${part.name}`, url: await context.createDatabase(), ddl: [part.drop], binding: null })
    }
    for (const binding of BINDINGS) {
      variants.push({ name: `bound by ${binding.name}`, url: await context.createDatabase(), ddl: [], binding })
    }
    const clients = await Promise.all(variants.map(async variant => {
      const client = new pg.Client({ connectionString: variant.url, application_name: 'bench:insert-costs' })
      await client.connect()
      for (const ddl of variant.ddl) await client.query(ddl)
      return client
    }))
    // A backend's pid names a process of this machine only when the server runs here (context.postgresPid).
    const backends = await Promise.all(clients.map(async client => (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid))
    const backendCpu = (): Array<number | null> => backends.map(pid => context.postgresPid === undefined ? null : cpuMsOfTree(pid))
    const statementMs: number[][] = variants.map(() => [])
    const commitMs: number[][] = variants.map(() => [])
    let before: DbCost[] = []
    let cpuBefore: Array<number | null> = []
    let cpuAfter: Array<number | null> = []
    try {
      for (let round = 0; round < WARM_UP + bulks; round++) {
        if (round === WARM_UP) {
          await settleStats(false)
          before = await Promise.all(variants.map(async variant => await readDbCost(variant.url)))
          cpuBefore = backendCpu()
        }
        for (let k = 0; k < variants.length; k++) {
          const v = (round + k) % variants.length
          const { bulk, operations } = newBulk(round * BULK)
          const real = insertBulkWithOperations(bulk, operationRows(operations))
          const query = variants[v]!.binding?.rebind(real, operations) ?? real
          const client = clients[v]!
          await client.query('BEGIN')
          const start = now()
          const { rowCount } = await client.query({ text: query.text, values: [...query.values] })
          const inserted = now()
          await client.query('COMMIT')
          if (rowCount !== BULK) throw new Error(`${variants[v]!.name}: inserted ${rowCount} operations, expected ${BULK}`)
          if (round >= WARM_UP) {
            statementMs[v]!.push(inserted - start)
            commitMs[v]!.push(now() - inserted)
          }
        }
      }
      cpuAfter = backendCpu()
    } finally {
      await Promise.all(clients.map(async client => await client.end()))
    }
    await settleStats(false)
    const after = await Promise.all(variants.map(async variant => await readDbCost(variant.url)))
    // The backend's CPU per bulk (the commit's wait for the disk is not CPU): it moves less with the machine's load than times.
    const cpu = backends.map((_, v) => cpuBefore[v] == null || cpuAfter[v] == null ? null : (cpuAfter[v]! - cpuBefore[v]!) / bulks)
    const describe = (v: number): string => {
      const wal = costPer(before[v]!, after[v]!, bulks * BULK).walRecords
      return `${round(median(statementMs[v]!), 1)} ms per 1,000 operations, backend CPU ${cpu[v] === null ? '?' : round(cpu[v]!, 1)} ms` +
        `, ${wal === null ? '?' : round(wal, 2)} WAL records an operation (commit ${round(median(commitMs[v]!), 1)} ms)`
    }
    return variants.map((variant, v) => ({
      cost: { figure: costPer(before[v]!, after[v]!, bulks * BULK), baseline: v === 0 ? null : costPer(before[0]!, after[0]!, bulks * BULK) },
      scenario: `insert costs: ${variant.name}`,
      figure: describe(v),
      baseline: v === 0 ? '—' : `as migrated: ${round(median(statementMs[0]!), 1)} ms, CPU ${cpu[0] === null ? '?' : round(cpu[0]!, 1)} ms`,
      // Paired by round: the bulks of one round were written within a few hundred milliseconds of each other.
      ratio: v === 0 ? null : median(statementMs[v]!.map((ms, r) => statementMs[0]![r]! / ms)),
      target: '— (informational)',
      pass: null,
      runs: { statementMs: statementMs[v], commitMs: commitMs[v], backendCpuMsPerBulk: cpu[v] }
    }))
  }
}

interface Variant {
  readonly name: string
  readonly url: string
  /** Applied to the freshly migrated database before the first bulk. */
  readonly ddl: readonly string[]
  readonly binding: Binding | null
}

/** What may be dropped from `operation` for a variant: its indexes but the primary key, its foreign keys, its insert triggers. */
async function droppableParts (url: string): Promise<Array<{ name: string, drop: string }>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ name: string, drop: string }>(`
      SELECT format('index %s', c.relname) AS name,
             CASE WHEN con.conname IS NULL THEN format('DROP INDEX %I', c.relname)
                  ELSE format('ALTER TABLE operation DROP CONSTRAINT %I', con.conname) END AS drop
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
      WHERE i.indrelid = 'operation'::regclass AND NOT i.indisprimary
      UNION ALL
      SELECT format('foreign key %s', conname), format('ALTER TABLE operation DROP CONSTRAINT %I', conname)
      FROM pg_constraint WHERE conrelid = 'operation'::regclass AND contype = 'f'
      UNION ALL
      SELECT format('trigger %s', tgname), format('DROP TRIGGER %I ON operation', tgname)
      FROM pg_trigger WHERE tgrelid = 'operation'::regclass AND NOT tgisinternal AND (tgtype & 4) <> 0
      ORDER BY 1`)
    return rows
  } finally {
    await client.end()
  }
}

/** Another way of carrying the rows into the statement, in place of the real query's row source. */
interface Binding {
  readonly name: string
  rebind (query: Query, operations: readonly NewOperation[]): Query
}

/** The real query's row source: a function of one parameter, `AS r (columns)`. */
const ROW_SOURCE = /\b(jsonb?_to_recordset|unnest)\((?:[^()]|\([^()]*\))*\) AS r \([^)]*\)/

function replaceRowSource (text: string, source: string): string {
  if (!ROW_SOURCE.test(text)) throw new Error('insert-costs: the operation insert no longer reads its rows as `… AS r (…)`')
  return text.replace(ROW_SOURCE, () => source)
}

/** The real query with its rows ($2) bound as `source` reads them: `first` in place of $2, `more` after the other values. */
function rebound (query: Query, source: (more: number) => string, first: unknown, more: readonly unknown[] = []): Query {
  const values = [...query.values]
  if (typeof values[1] !== 'string' || !values[1].startsWith('[')) throw new Error('insert-costs: the operation insert no longer binds its rows as $2')
  values[1] = first
  return { text: replaceRowSource(query.text, source(values.length + 1)), values: [...values, ...more] }
}

const RECORD = `(id uuid, index integer, topic text, status text, data jsonb, data_hash text, error_code text, message text,
  ordering_key text, number_order boolean, job_id uuid)`

const BINDINGS: readonly Binding[] = [
  {
    name: 'jsonb_to_recordset (one jsonb array)',
    rebind: (query, operations) => rebound(query, () => `jsonb_to_recordset($2::jsonb) AS r ${RECORD}`, JSON.stringify(operations.map(operationRow)))
  },
  {
    name: 'json_to_recordset (one json array)',
    rebind: (query, operations) => rebound(query, () => `json_to_recordset($2::json) AS r ${RECORD}`, JSON.stringify(operations.map(operationRow)))
  },
  {
    name: 'unnest (an array per column)',
    rebind: (query, operations) => rebound(query, n => `unnest($2::uuid[], $${n}::integer[], $${n + 1}::text[], $${n + 2}::text[], $${n + 3}::jsonb[],
        $${n + 4}::text[], $${n + 5}::text[], $${n + 6}::text[], $${n + 7}::text[], $${n + 8}::boolean[], $${n + 9}::uuid[])
        AS r (id, index, topic, status, data, data_hash, error_code, message, ordering_key, number_order, job_id)`,
    operations.map(op => op.id), [operations.map(op => op.index), operations.map(op => op.topic), operations.map(op => op.status),
      operations.map(op => JSON.stringify(op.data ?? null)), operations.map(op => op.dataHash), operations.map(op => op.errorCode),
      operations.map(op => op.message), operations.map(op => op.orderingKey), operations.map(op => op.numberOrder),
      operations.map(op => op.jobId ?? null)])
  }
]

/** A bulk of placements as placeOrders accepts them: numbered at acceptance, carried by chunk jobs of 500. */
function newBulk (from: number): { bulk: NewBulk, operations: NewOperation[] } {
  const bulk: NewBulk = {
    uuid: randomUUID(),
    owner: 'bench',
    ownerRole: 'admin',
    description: null,
    operationCount: BULK,
    notifyUrl: null,
    kind: BULK_KIND.PLACEMENT,
    createdBy: null,
    notAfter: null
  }
  let jobId = randomUUID()
  const operations = Array.from({ length: BULK }, (_, index): NewOperation => {
    if (index % CHUNK_JOB === 0) jobId = randomUUID()
    const data = order(from + index)
    return {
      id: randomUUID(),
      index,
      topic: 'order.place',
      status: OPERATION_STATUS.OPEN,
      data,
      dataHash: createHash('sha256').update(JSON.stringify(data)).digest('hex'),
      errorCode: null,
      message: null,
      orderingKey: null,
      numberOrder: true,
      jobId
    }
  })
  return { bulk, operations }
}
