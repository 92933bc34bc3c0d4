import { isDeepStrictEqual } from 'node:util'
import fs from 'node:fs'
import path from 'node:path'
import type pg from 'pg'
import { keyFileName } from '../src/adapters/keys.ts'
import { evolve as evolveInventory, initialState as initialInventory } from '../src/inventory/domain/inventory.ts'
import type { InventoryEvent } from '../src/inventory/domain/events.ts'
import type { OrderEvent } from '../src/orders/domain/events.ts'
import { evolveOrderView, type OrderView } from '../src/orders/orderView.ts'
import type { ClientStats } from './clients.ts'

/** One invariant over everything accepted: its figure, and the first few violations. */
export interface Invariant {
  readonly name: string
  readonly ok: boolean
  readonly figure: string
  readonly violations: readonly string[]
}

interface StreamEvent { stream_id: string, stream_version: number, type: string, data: any, metadata: any }

function invariant (name: string, figure: string, violations: readonly string[]): Invariant {
  return { name, ok: violations.length === 0, figure, violations: violations.slice(0, 10) }
}

/** Every stream of a prefix, folded in order. */
async function streams (db: pg.Client, prefix: string): Promise<Map<string, StreamEvent[]>> {
  const { rows } = await db.query<StreamEvent>('SELECT stream_id, stream_version, type, data, metadata FROM event WHERE stream_id LIKE $1 ORDER BY stream_id, stream_version', [`${prefix}%`])
  const byStream = new Map<string, StreamEvent[]>()
  for (const row of rows) {
    const events = byStream.get(row.stream_id) ?? []
    events.push(row)
    byStream.set(row.stream_id, events)
  }
  return byStream
}

/** Checks every invariant the soak promises (docs/operations.md, "Soak"). */
export async function check (db: pg.Client, dataDir: string, stats: ClientStats): Promise<Invariant[]> {
  const orders = await streams(db, 'order-')
  return [
    await nothingLost(db, stats),
    await operationsTerminal(db),
    await ordersFinal(db),
    await readModelsFold(db, orders),
    await effectsOnce(db, dataDir, orders),
    await stockConserved(db, orders),
    await countersMatch(db),
    await noJobLeft(db),
    subscribersSawTheEnd(await finalStatuses(db), stats)
  ]
}

async function nothingLost (db: pg.Client, stats: ClientStats): Promise<Invariant> {
  const { rows } = await db.query<{ uuid: string, operations: number }>('SELECT b.uuid, count(o.id)::int AS operations FROM bulk b LEFT JOIN operation o ON o.bulk_uuid = b.uuid GROUP BY b.uuid')
  const stored = new Map(rows.map(row => [row.uuid, row.operations]))
  const violations: string[] = []
  for (const accepted of stats.accepted) {
    const operations = stored.get(accepted.uuid)
    if (operations === undefined) violations.push(`bulk ${accepted.uuid} was accepted and is not stored`)
    else if (operations !== accepted.items) violations.push(`bulk ${accepted.uuid} has ${operations} operations for ${accepted.items} items`)
  }
  // A bulk the clients do not know of: stored while its answer was lost and every retry went unanswered.
  const known = new Set(stats.accepted.map(accepted => accepted.uuid))
  const unknown = [...stored.keys()].filter(uuid => !known.has(uuid)).length
  if (unknown > stats.unanswered) violations.push(`${unknown} bulks stored that no client was answered for, with ${stats.unanswered} requests unanswered`)
  return invariant('every accepted request stored, once, with all its items', `${stats.accepted.length} accepted, ${stored.size} stored, ${stats.unanswered} unanswered`, violations)
}

async function operationsTerminal (db: pg.Client): Promise<Invariant> {
  const { rows } = await db.query<{ id: string, status: string }>("SELECT id, status FROM operation WHERE status IN ('OPEN', 'RETRIABLY_FAILED')")
  const { rows: [all] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM operation')
  return invariant('every operation terminal', `${all!.n} operations, ${rows.length} not terminal`, rows.map(row => `operation ${row.id} is ${row.status}`))
}

async function ordersFinal (db: pg.Client): Promise<Invariant> {
  const { rows } = await db.query<{ order_number: string, status: string }>("SELECT order_number, status FROM orders WHERE status NOT IN ('COMPLETED', 'CANCELED', 'FAILED')")
  const { rows: counts } = await db.query<{ status: string, n: number }>('SELECT status, count(*)::int AS n FROM orders GROUP BY status ORDER BY status')
  return invariant('every order final (COMPLETED, CANCELED or FAILED)', counts.map(row => `${row.n} ${row.status}`).join(', ') || 'no orders',
    rows.map(row => `order ${row.order_number} is ${row.status}`))
}

async function readModelsFold (db: pg.Client, orders: Map<string, StreamEvent[]>): Promise<Invariant> {
  const { rows } = await db.query<{ id: string, view: OrderView | null }>('SELECT id, view FROM orders')
  const violations: string[] = []
  for (const row of rows) {
    let folded: OrderView | null = null
    for (const event of orders.get(`order-${row.id}`) ?? []) {
      folded = evolveOrderView(folded, { type: event.type, data: event.data } as OrderEvent, { streamVersion: event.stream_version, causationId: event.metadata?.causationId })
    }
    // Through JSON, as the view is stored: dates and undefined fields compare as the database holds them.
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(folded)), row.view)) violations.push(`order ${row.id}: its read model differs from the fold of its stream`)
  }
  return invariant('every order\'s read model equals the fold of its stream', `${rows.length} orders, ${orders.size} streams`, violations)
}

function filesIn (dir: string): Set<string> {
  return new Set(fs.existsSync(dir) ? fs.readdirSync(dir) : [])
}

/** The effect each recorded event stands for, found where the adapters' local stand-ins leave it. */
const EFFECTS = [
  { event: 'InvoiceEmailed', work: 'emailInvoice', where: 'outbox', suffix: '.eml' },
  { event: 'ShippingEmailSent', work: 'emailShipping', where: 'outbox', suffix: '.eml' },
  { event: 'CancellationEmailed', work: 'emailCancellation', where: 'outbox', suffix: '.eml' },
  { event: 'ShippingLabelPrinted', work: 'printShippingLabel', where: 'labels', suffix: '.pdf' }
] as const

async function effectsOnce (db: pg.Client, dataDir: string, orders: Map<string, StreamEvent[]>): Promise<Invariant> {
  const folders = { outbox: filesIn(path.join(dataDir, 'outbox')), labels: filesIn(path.join(dataDir, 'labels')) }
  const erpFile = path.join(dataDir, 'erp-export.jsonl')
  const erpLines = new Map<string, number>()
  if (fs.existsSync(erpFile)) {
    for (const line of fs.readFileSync(erpFile, 'utf8').split('\n').filter(Boolean)) {
      const key = (JSON.parse(line) as { idempotencyKey: string }).idempotencyKey
      erpLines.set(key, (erpLines.get(key) ?? 0) + 1)
    }
  }
  const { rows: charges } = await db.query<{ idempotency_key: string, outcome: string }>('SELECT idempotency_key, outcome FROM payment_simulator_charge')
  const captured = new Set(charges.filter(charge => charge.outcome === 'CAPTURED').map(charge => charge.idempotency_key))
  const { rows: refunds } = await db.query<{ idempotency_key: string }>('SELECT idempotency_key FROM payment_simulator_refund')
  const refunded = new Set(refunds.map(refund => refund.idempotency_key))
  const violations: string[] = []
  let effects = 0
  for (const [stream, events] of orders) {
    const id = stream.slice('order-'.length)
    const types = new Set(events.map(event => event.type))
    // Money: a capture is recorded exactly when the provider took it, a refund exactly when it gave it back.
    if (types.has('PaymentCaptured') !== captured.has(`${id}:capturePayment`)) violations.push(`order ${id}: PaymentCaptured recorded ${types.has('PaymentCaptured')}, captured at the provider ${captured.has(`${id}:capturePayment`)}`)
    if (types.has('PaymentRefunded') !== refunded.has(`${id}:refundPayment`)) violations.push(`order ${id}: PaymentRefunded recorded ${types.has('PaymentRefunded')}, refunded at the provider ${refunded.has(`${id}:refundPayment`)}`)
    for (const effect of EFFECTS) {
      if (!types.has(effect.event)) continue
      effects += 1
      if (!folders[effect.where].has(`${keyFileName(`${id}:${effect.work}`)}${effect.suffix}`)) violations.push(`order ${id}: ${effect.event} recorded, and no ${effect.work} in ${effect.where}`)
    }
    const exported = erpLines.get(`${id}:exportToErp`) ?? 0
    if (types.has('OrderExportedToErp') ? exported !== 1 : exported > 1) violations.push(`order ${id}: exported to the ERP ${exported} times`)
    effects += exported
  }
  for (const [key, count] of erpLines) if (count > 1) violations.push(`ERP record ${key} written ${count} times`)
  return invariant('each outside effect exactly once per order and step', `${effects} emails, labels and ERP records, ${captured.size} captures, ${refunded.size} refunds`, violations)
}

async function stockConserved (db: pg.Client, orders: Map<string, StreamEvent[]>): Promise<Invariant> {
  const skus = await streams(db, 'inventory-')
  const { rows } = await db.query<Record<string, string | number>>('SELECT * FROM inventory')
  const { rows: open } = await db.query<{ id: string, status: string }>("SELECT id, status FROM orders WHERE status = 'PLACED'")
  // What open orders hold: their lines, summed per SKU.
  const held = new Map<string, number>()
  for (const { id } of open) {
    const placed = (orders.get(`order-${id}`) ?? []).find(event => event.type === 'OrderPlaced')
    for (const line of placed?.data.lines ?? []) held.set(line.sku, (held.get(line.sku) ?? 0) + Number(line.quantity))
  }
  const violations: string[] = []
  for (const row of rows) {
    const sku = String(row.sku)
    let state = initialInventory()
    let adjusted = 0
    for (const event of skus.get(`inventory-${sku}`) ?? []) {
      state = evolveInventory(state, { type: event.type, data: event.data } as InventoryEvent)
      if (event.type === 'InventoryAdjusted') adjusted += Number(event.data.quantity)
    }
    const available = Number(row.available)
    const reserved = Number(row.reserved)
    if (available !== state.available || reserved !== state.reserved) violations.push(`${sku}: read model ${available}/${reserved}, its stream ${state.available}/${state.reserved} (available/reserved)`)
    const shipped = Number(row.shipped ?? 0)
    if (available + reserved + shipped !== adjusted) violations.push(`${sku}: on hand ${available + reserved} + shipped ${shipped} ≠ adjustments ${adjusted}`)
    if (reserved !== (held.get(sku) ?? 0)) violations.push(`${sku}: reserved ${reserved}, open orders hold ${held.get(sku) ?? 0}`)
  }
  return invariant('stock conserved: on hand + shipped = adjustments; reserved = open orders\' lines', `${rows.length} SKUs, ${open.length} open orders`, violations)
}

async function countersMatch (db: pg.Client): Promise<Invariant> {
  const { rows } = await db.query<{ bulk_uuid: string, status: string, counted: number, operations: number }>(`
    WITH counters AS (
      SELECT bulk_uuid, sum(open)::int AS open, sum(complete)::int AS complete, sum(retriably_failed)::int AS retriably_failed,
             sum(not_retriably_failed)::int AS not_retriably_failed, sum(rejected)::int AS rejected, sum(canceled)::int AS canceled
      FROM bulk_progress GROUP BY bulk_uuid),
    actual AS (
      SELECT bulk_uuid, count(*) FILTER (WHERE status = 'OPEN')::int AS open, count(*) FILTER (WHERE status = 'COMPLETE')::int AS complete,
             count(*) FILTER (WHERE status = 'RETRIABLY_FAILED')::int AS retriably_failed, count(*) FILTER (WHERE status = 'NOT_RETRIABLY_FAILED')::int AS not_retriably_failed,
             count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected, count(*) FILTER (WHERE status = 'CANCELED')::int AS canceled
      FROM operation GROUP BY bulk_uuid)
    SELECT a.bulk_uuid, s.status, (to_jsonb(c) - 'bulk_uuid' ->> s.status)::int AS counted, (to_jsonb(a) - 'bulk_uuid' ->> s.status)::int AS operations
    FROM actual a LEFT JOIN counters c USING (bulk_uuid)
    CROSS JOIN (VALUES ('open'), ('complete'), ('retriably_failed'), ('not_retriably_failed'), ('rejected'), ('canceled')) s (status)
    WHERE (to_jsonb(c) - 'bulk_uuid' ->> s.status) IS DISTINCT FROM (to_jsonb(a) - 'bulk_uuid' ->> s.status)`)
  const { rows: [bulks] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bulk')
  return invariant('bulk counters equal the operations', `${bulks!.n} bulks`, rows.map(row => `bulk ${row.bulk_uuid}: ${row.status} counted ${row.counted}, operations ${row.operations}`))
}

async function noJobLeft (db: pg.Client): Promise<Invariant> {
  const { rows } = await db.query<{ name: string, state: string, n: number }>(`
    SELECT name, state::text, count(*)::int AS n FROM pgboss.job
    WHERE state IN ('created', 'retry', 'active') AND name NOT LIKE '\\_\\_%' AND name <> 'bulk.retention'
    GROUP BY name, state ORDER BY name`)
  const { rows: [all] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pgboss.job')
  return invariant('no job left behind', `${all!.n} jobs`, rows.map(row => `${row.n} ${row.state} in ${row.name}`))
}

async function finalStatuses (db: pg.Client): Promise<Map<string, string>> {
  const { rows } = await db.query<{ uuid: string, status: string }>(`
    SELECT b.uuid, CASE
      WHEN count(*) FILTER (WHERE o.status IN ('OPEN', 'RETRIABLY_FAILED')) > 0 THEN 'IN_PROGRESS'
      WHEN count(*) FILTER (WHERE o.status = 'CANCELED') > 0 AND count(*) FILTER (WHERE o.status IN ('NOT_RETRIABLY_FAILED', 'REJECTED')) = 0 THEN 'CANCELED'
      WHEN count(*) FILTER (WHERE o.status IN ('NOT_RETRIABLY_FAILED', 'REJECTED')) > 0 THEN 'FINISHED_WITH_FAILURE'
      ELSE 'FINISHED_SUCCESSFULLY' END AS status
    FROM bulk b JOIN operation o ON o.bulk_uuid = b.uuid GROUP BY b.uuid`)
  return new Map(rows.map(row => [row.uuid, row.status]))
}

function subscribersSawTheEnd (statuses: Map<string, string>, stats: ClientStats): Invariant {
  const followed = stats.accepted.filter(accepted => accepted.subscribed)
  const violations = followed
    .filter(accepted => !(accepted.lastSeen?.startsWith('FINISHED') || accepted.lastSeen === 'CANCELED') ||
      (statuses.get(accepted.uuid)?.startsWith('FINISHED') === true && accepted.lastSeen !== statuses.get(accepted.uuid)))
    .map(accepted => `bulk ${accepted.uuid}: its subscriber last saw ${accepted.lastSeen ?? 'nothing'}, the bulk is ${statuses.get(accepted.uuid)}`)
  return invariant('every subscriber saw its bulk\'s final state', `${followed.length} bulks followed`, violations)
}
