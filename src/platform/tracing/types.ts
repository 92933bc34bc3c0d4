/** The shapes tracing works with, on or off (./tracing.ts, ./openTelemetry.ts). */

/** What a job's data carries of its trace: nothing when tracing is off or the job was sent outside one. */
export interface TracedJobData { readonly traceparent?: string }

/** A job as a batch worker gets it: its id and its data. */
export interface TracedJob { readonly id: string, readonly data: TracedJobData }

/** What tracing does, when on (./openTelemetry.ts). */
export interface Tracing {
  /** `{ traceparent }` of the span active now, to store in the data of the jobs it sends. */
  current (): TracedJobData
  /** `{ traceparent }` of the span of the job that `key` names in the batch running now (keysOf below). */
  ofJob (key: string): TracedJobData
  /** Runs `work` with one span per job, each the child of the context its data carries. */
  jobs<T> (queue: string, jobs: readonly TracedJob[], keysOf: (job: TracedJob) => readonly string[], work: () => Promise<T>): Promise<T>
  /** Exports the spans still buffered (at stop). */
  flush (): Promise<void>
}
