import { secondsHistogram } from '../metrics.ts'

/** How long a batch of jobs took, from its handler being called to its transaction's commit, by topic (its queue). */
export const jobBatchSeconds = secondsHistogram('job_batch_duration_seconds',
  'Processing time of a batch of jobs, from the worker receiving it to the commit of its transaction, by topic (the pg-boss queue)', ['topic'])
