import type { Query } from '../db/pool.ts'

/** The unique constraint that makes concurrent appends at one version conflict (migrations/0009). */
export const STREAM_VERSION_CONSTRAINT = 'event_stream_version_key'

/** An event as appended: its stream version and position are given by the append. */
export interface EventToAppend {
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
}

/** An event as stored. `position` is an int8 read as a JS number (src/platform/db/pool.ts). */
export interface EventRow {
  position: number
  stream_id: string
  stream_version: number
  type: string
  data: unknown
  metadata: unknown
  recorded_at: Date
}

/** What appendToStream answers, always one row. */
export interface AppendRow {
  /** The stream's version when the statement looked: 0 for a stream with no event. */
  current_version: number
  appended: number
  /** Position of the last event appended; null when none was. */
  last_position: number | null
}

const EVENT_COLUMNS = 'position, stream_id, stream_version, type, data, metadata, recorded_at'

/**
 * Appends `events` to a stream as versions expectedVersion + 1, + 2, … in one statement, only if
 * the stream is at `expectedVersion` now (0: no event yet). Answers the version it found: when that
 * is not `expectedVersion`, nothing was inserted. A writer that appended the same versions
 * meanwhile, not yet committed when this statement looked, makes the insert fail with 23505 on
 * STREAM_VERSION_CONSTRAINT (it waits for that writer's commit first, then fails).
 * ORDER BY n: positions are drawn in the events' order, so they grow with the stream version.
 */
export function appendToStream (streamId: string, expectedVersion: number, events: readonly EventToAppend[]): Query {
  return {
    text: `WITH current_version AS (
        SELECT coalesce(max(stream_version), 0) AS version FROM event WHERE stream_id = $1
      ), appended AS (
        INSERT INTO event (stream_id, stream_version, type, data, metadata)
        SELECT $1, $2::int + e.n::int, e.type, e.data, e.metadata
        FROM current_version c
        CROSS JOIN ROWS FROM (jsonb_to_recordset($3::jsonb) AS (type text, data jsonb, metadata jsonb))
          WITH ORDINALITY AS e (type, data, metadata, n)
        WHERE c.version = $2::int
        ORDER BY e.n
        RETURNING position
      )
      SELECT c.version AS current_version,
             (SELECT count(*)::int FROM appended) AS appended,
             (SELECT max(position) FROM appended) AS last_position
      FROM current_version c`,
    values: [streamId, expectedVersion, JSON.stringify(events.map(e => ({ type: e.type, data: e.data, metadata: e.metadata })))]
  }
}

/** A stream's events after `afterVersion` (0: from the first), in version order. */
export function readStream (streamId: string, afterVersion = 0): Query {
  return {
    text: `SELECT ${EVENT_COLUMNS} FROM event WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version`,
    values: [streamId, afterVersion]
  }
}

/**
 * Up to `limit` events of every stream after `afterPosition` (0: from the first), in position
 * order. Positions are not commit order: see migrations/0009 before reading alongside writers.
 */
export function readAll (afterPosition: number, limit: number): Query {
  return {
    text: `SELECT ${EVENT_COLUMNS} FROM event WHERE position > $1 ORDER BY position LIMIT $2`,
    values: [afterPosition, limit]
  }
}

/** Events to insert at the versions given (the caller checked them under a lock; the constraint still guards). */
export interface VersionedEvent {
  readonly streamId: string
  readonly streamVersion: number
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
}

/**
 * Appends the events of many streams in one statement, each at the version given. Used by
 * handlers that hold their streams' locks (src/orders/): a version taken meanwhile by a writer that
 * did not fails the whole statement with 23505 on STREAM_VERSION_CONSTRAINT.
 */
export function appendEvents (events: readonly VersionedEvent[]): Query {
  return {
    text: `INSERT INTO event (stream_id, stream_version, type, data, metadata)
      SELECT e.stream_id, e.stream_version, e.type, e.data, e.metadata
      FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (stream_id text, stream_version int, type text, data jsonb, metadata jsonb))
        WITH ORDINALITY AS e (stream_id, stream_version, type, data, metadata, n)
      ORDER BY e.n`,
    values: [JSON.stringify(events.map(e => ({ stream_id: e.streamId, stream_version: e.streamVersion, type: e.type, data: e.data, metadata: e.metadata })))]
  }
}

/** The events of many streams, each stream in version order. */
export function readStreams (streamIds: readonly string[]): Query {
  return {
    text: `SELECT ${EVENT_COLUMNS} FROM event WHERE stream_id = ANY($1::text[]) ORDER BY stream_id, stream_version`,
    values: [streamIds]
  }
}
