/** The deployment's overrides of every operation and chain topic's retry policy (JOB_RETRY_LIMIT and friends). */
export interface RetryOverrides {
  readonly retryLimit?: number | undefined
  readonly retryDelaySeconds?: number | undefined
  readonly expireInSeconds?: number | undefined
}

export interface RetryPolicy {
  readonly retryLimit: number
  readonly retryDelaySeconds: number
  readonly retryBackoff: boolean
  readonly expireInSeconds: number
}

/**
 * A topic's retry policy with the overrides applied. A delay of 0 retries at once: pg-boss's backoff
 * counts from at least 1 s (1, 2, 4 … s with jitter), so it is turned off then.
 */
export function retryPolicyWith (topic: RetryPolicy, overrides: RetryOverrides): RetryPolicy {
  const retryDelaySeconds = overrides.retryDelaySeconds ?? topic.retryDelaySeconds
  return {
    retryLimit: overrides.retryLimit ?? topic.retryLimit,
    retryDelaySeconds,
    retryBackoff: retryDelaySeconds > 0 && topic.retryBackoff,
    expireInSeconds: overrides.expireInSeconds ?? topic.expireInSeconds
  }
}
