import { setTimeout as sleep } from 'node:timers/promises'
import { TransientOutsideError, type OutsideSystem } from './ports.ts'

/**
 * An attempt abandoned by its job (issue 13, item 6): pg-boss aborts a job's `signal` when the
 * attempt outlived its expiry (the job is failed, and retried elsewhere) or the worker lost its
 * claim, and on a shutdown that waited long enough. A call still under way then must stop, so that
 * the attempt does not go on beside its retry: an effect made after it would be the retry's too.
 */
export function abandoned (system: OutsideSystem, options?: ErrorOptions): TransientOutsideError {
  return new TransientOutsideError(system, 'the attempt was abandoned (it outlived its expiry, or the worker is stopping)', options)
}

/** Throws `abandoned` when the signal has been aborted: called before an effect is made. */
export function throwIfAbandoned (system: OutsideSystem, signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abandoned(system, { cause: signal.reason })
}

/** Waits `ms` (a simulated latency), or throws `abandoned` as soon as the signal is aborted. */
export async function waitUnlessAbandoned (system: OutsideSystem, ms: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAbandoned(system, signal)
  if (ms <= 0) return
  try {
    await sleep(ms, undefined, signal !== undefined ? { signal } : {})
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw abandoned(system, { cause: error })
    throw error
  }
}
