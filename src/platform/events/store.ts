/**
 * The event store over the `event` table (migrations/0009): appends with an expected stream version,
 * reads a stream or the whole log, folds a stream into an aggregate's state. It runs on whatever
 * `Db` it is given, so that a handler appends in the same transaction as the rest of its work.
 */
import { run, type Db } from '../db/pool.ts'
import * as sql from './sql.ts'

/** The expected version of a stream that has no event yet (stream versions start at 1). */
export const NO_STREAM = 0

/**
 * The version an append expects the stream to be at: NO_STREAM, or the version of the last event
 * the caller folded (aggregateStream's `version`). Every append checks it; there is no "any".
 */
export type ExpectedVersion = number

/** What an aggregate's events look like: a `type` to switch on and JSON-safe `data`. */
export interface EventShape {
  readonly type: string
  readonly data: unknown
}

/** Stored with every event of an append (issue 4: correlation and causation). */
export interface EventMetadata {
  /** The bulk's UUID: every event caused, however indirectly, by one request shares it. */
  readonly correlationId: string
  /** What caused these events: the operation id for a placement, the job or event id for a later step. */
  readonly causationId?: string
}

/** An event as read back: the event itself and where and when it was recorded. */
export type RecordedEvent<E extends EventShape = EventShape> = E & {
  /** Unique across streams, growing with insertion (not commit) order: see migrations/0009. */
  readonly position: number
  readonly streamId: string
  /** 1 for the stream's first event. */
  readonly streamVersion: number
  readonly metadata: EventMetadata
  readonly recordedAt: Date
}

export interface AppendResult {
  /** The stream's version after the append: what the next append to it should expect. */
  readonly nextExpectedVersion: number
  /** Position of the last event appended; null when `events` was empty. */
  readonly lastPosition: number | null
}

/**
 * Another writer changed the stream since the caller read it. Expected, not a bug: the caller
 * loads the stream again and decides again (issue 4: "a conflict is a typed error, retried by the
 * handler"). Inside a transaction, the transaction is aborted then and must be rolled back first.
 */
export class StreamVersionConflictError extends Error {
  readonly streamId: string
  readonly expectedVersion: number
  /**
   * The stream's version when the check found it different. Undefined when the unique constraint
   * caught a writer that was appending at the same time: the failed statement has aborted the
   * transaction, so it is not read; it is at least expectedVersion + 1 then.
   */
  readonly actualVersion: number | undefined

  constructor (streamId: string, expectedVersion: number, actualVersion: number | undefined, options?: ErrorOptions) {
    super(actualVersion === undefined
      ? `stream ${streamId} was appended to by another writer at version ${expectedVersion + 1}: expected it at version ${expectedVersion}`
      : `stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`, options)
    this.name = 'StreamVersionConflictError'
    this.streamId = streamId
    this.expectedVersion = expectedVersion
    this.actualVersion = actualVersion
  }
}

/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505'

function isStreamVersionViolation (error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: unknown, constraint?: unknown }
  return code === UNIQUE_VIOLATION && constraint === sql.STREAM_VERSION_CONSTRAINT
}

/**
 * Appends `events` to `streamId` as one statement, if the stream is at `expectedVersion`; each
 * event is stored with `metadata`. Throws StreamVersionConflictError when it is not, or when
 * another writer appended the same versions first. An empty `events` appends nothing but still
 * checks the version.
 */
export async function appendToStream (
  db: Db,
  streamId: string,
  expectedVersion: ExpectedVersion,
  events: readonly EventShape[],
  metadata: EventMetadata
): Promise<AppendResult> {
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
    throw new RangeError(`expectedVersion must be NO_STREAM (0) or a stream version (a whole number above 0), got ${expectedVersion}`)
  }
  let row: sql.AppendRow
  try {
    const rows = await run<sql.AppendRow>(db, sql.appendToStream(streamId, expectedVersion,
      events.map(event => ({ type: event.type, data: event.data, metadata }))))
    row = rows[0]!
  } catch (error) {
    if (isStreamVersionViolation(error)) throw new StreamVersionConflictError(streamId, expectedVersion, undefined, { cause: error })
    throw error
  }
  if (row.current_version !== expectedVersion) throw new StreamVersionConflictError(streamId, expectedVersion, row.current_version)
  return { nextExpectedVersion: expectedVersion + row.appended, lastPosition: row.last_position }
}

function toRecorded<E extends EventShape> (row: sql.EventRow): RecordedEvent<E> {
  // The rows were written by appendToStream from the same event types: trusted, not validated.
  return {
    type: row.type,
    data: row.data,
    position: row.position,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    metadata: row.metadata,
    recordedAt: row.recorded_at
  } as unknown as RecordedEvent<E>
}

/** A stream's events after `afterVersion` (default: all), in order; [] for a stream with none. */
export async function readStream<E extends EventShape> (db: Db, streamId: string, afterVersion = 0): Promise<Array<RecordedEvent<E>>> {
  return (await run<sql.EventRow>(db, sql.readStream(streamId, afterVersion))).map(row => toRecorded<E>(row))
}

/** Up to `limit` events of all streams after `afterPosition`, in position order (see migrations/0009). */
export async function readAll (db: Db, afterPosition: number, limit: number): Promise<RecordedEvent[]> {
  return (await run<sql.EventRow>(db, sql.readAll(afterPosition, limit))).map(row => toRecorded(row))
}

/**
 * Folds a stream into its aggregate's state: `initialState()` for a stream with no event. `version`
 * is what an append of the events decided from `state` must expect (NO_STREAM for none).
 */
export async function aggregateStream<S, E extends EventShape> (
  db: Db,
  streamId: string,
  evolve: (state: S, event: E) => S,
  initialState: () => S
): Promise<{ state: S, version: number }> {
  const events = await readStream<E>(db, streamId)
  return {
    state: events.reduce<S>((state, event) => evolve(state, event), initialState()),
    version: events.at(-1)?.streamVersion ?? NO_STREAM
  }
}

/**
 * Appends events of many streams in one statement at the versions given: for callers that hold
 * the streams' locks and folded them (src/orders/). Throws StreamVersionConflictError when another
 * writer took one of the versions.
 */
export async function appendEvents (db: Db, events: readonly sql.VersionedEvent[]): Promise<void> {
  if (events.length === 0) return
  try {
    await run(db, sql.appendEvents(events))
  } catch (error) {
    if (isStreamVersionViolation(error)) {
      const first = events[0]!
      throw new StreamVersionConflictError(first.streamId, first.streamVersion - 1, undefined, { cause: error })
    }
    throw error
  }
}

/** The events of many streams, grouped by stream (a stream with no event is missing from the map). */
export async function readStreams<E extends EventShape> (db: Db, streamIds: readonly string[]): Promise<Map<string, Array<RecordedEvent<E>>>> {
  const byStream = new Map<string, Array<RecordedEvent<E>>>()
  if (streamIds.length === 0) return byStream
  for (const row of await run<sql.EventRow>(db, sql.readStreams(streamIds))) {
    const events = byStream.get(row.stream_id) ?? []
    events.push(toRecorded<E>(row))
    byStream.set(row.stream_id, events)
  }
  return byStream
}
