import { print, type ExecutionArgs, type ExecutionResult } from 'graphql'
import { isAsyncIterable, type Plugin } from 'graphql-yoga'
import type { Principal } from '../../access/principal.ts'

/**
 * Results a subscriber that does not read may fall behind by before its oldest are dropped (the
 * newest are kept, and with them the last state before completion). A bulk's or an order's later
 * state supersedes the earlier ones; a reader this far behind has missed states already.
 */
export const MAX_BEHIND = 100

type Started = ExecutionResult | AsyncIterable<ExecutionResult>

/** One subscriber's stream of a shared execution: its own queue, so that a slow reader holds nobody up. */
class Subscriber implements AsyncIterableIterator<ExecutionResult> {
  readonly #queue: ExecutionResult[] = []
  #waiting: ((step: IteratorResult<ExecutionResult>) => void) | undefined
  #ended = false
  #failure: { error: unknown } | undefined
  readonly #leave: (subscriber: Subscriber) => void

  constructor (leave: (subscriber: Subscriber) => void) {
    this.#leave = leave
  }

  push (result: ExecutionResult): void {
    if (this.#ended) return
    if (this.#waiting !== undefined) {
      const waiting = this.#waiting
      this.#waiting = undefined
      waiting({ done: false, value: result })
      return
    }
    this.#queue.push(result)
    if (this.#queue.length > MAX_BEHIND) this.#queue.shift()
  }

  /** No more results: the queued ones are still read, then the stream completes (or fails with `failure`). */
  end (failure?: { error: unknown }): void {
    if (this.#ended) return
    this.#ended = true
    this.#failure = failure
    if (this.#waiting !== undefined && this.#queue.length === 0) {
      const waiting = this.#waiting
      this.#waiting = undefined
      if (failure === undefined) waiting({ done: true, value: undefined })
      else waiting(Promise.reject(failure.error) as never)
    }
  }

  [Symbol.asyncIterator] (): this { return this }

  async next (): Promise<IteratorResult<ExecutionResult>> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return { done: false, value: queued }
    if (this.#ended) {
      if (this.#failure !== undefined) {
        const { error } = this.#failure
        this.#failure = undefined
        throw error
      }
      return { done: true, value: undefined }
    }
    return await new Promise(resolve => { this.#waiting = resolve })
  }

  async return (): Promise<IteratorResult<ExecutionResult>> {
    this.#queue.length = 0
    this.end()
    this.#leave(this)
    return { done: true, value: undefined }
  }
}

/** One execution of a subscription, read once and handed to every subscriber of it. */
class SharedExecution {
  readonly subscribers = new Set<Subscriber>()
  /** The latest result: a subscriber who joins later gets it first (the current state). */
  last: ExecutionResult | undefined
  /** No more results: its source completed or failed (`last` is its final result), or it was `abandoned`. */
  ended = false
  /** Ended because its last subscriber left, not because its source completed. */
  abandoned = false
  iterator: AsyncIterator<ExecutionResult> | undefined
  readonly started: Promise<Started>

  constructor (start: () => Promise<Started>) {
    this.started = start()
  }
}

/**
 * Subscriptions executed once per distinct (document, operation, variables, caller scope), not once
 * per subscriber (issue 17, item 4): a thousand subscribers of one bulk cost one execution per
 * change. The first subscriber of a key starts the execution (its subscribe resolver authorizes
 * it); later ones of the same key and caller scope join it, and get its latest result first. Each
 * subscriber's stream passes through the other plugins on its own (rate limit when it starts,
 * the end on revoked credentials, error masking). The execution ends when its source completes
 * (every subscriber completes after its last result) or when its last subscriber leaves.
 */
export class SharedSubscriptions {
  readonly #executions = new Map<string, SharedExecution>()
  #started = 0
  #results = 0

  /** Executions started in this process, and results they produced (each handed to every subscriber of its execution). */
  get counts (): { readonly executions: number, readonly results: number, readonly running: number } {
    return { executions: this.#started, results: this.#results, running: this.#executions.size }
  }

  /** The subscription of `key`: joins its execution, or starts it with `start`. */
  async join (key: string, start: () => Promise<Started>): Promise<Started> {
    let execution = this.#executions.get(key)
    if (execution === undefined) {
      execution = new SharedExecution(start)
      this.#started++
      this.#executions.set(key, execution)
      void this.#pump(key, execution)
    }
    const started = await execution.started.catch((error: unknown) => ({ failed: error }))
    if ('failed' in started) throw started.failed
    // Refused (not found, not allowed): the same answer for every subscriber of the key.
    if (!isAsyncIterable(started)) return started
    // Its subscribers all left while this one waited: its last result is not a final one; start afresh.
    if (execution.abandoned) return await this.join(key, start)
    const subscriber = new Subscriber(leaving => this.#leave(key, execution, leaving))
    if (execution.last !== undefined) subscriber.push(execution.last)
    if (execution.ended) subscriber.end()
    else execution.subscribers.add(subscriber)
    return subscriber
  }

  async #pump (key: string, execution: SharedExecution): Promise<void> {
    let failure: { error: unknown } | undefined
    try {
      const started = await execution.started
      if (!isAsyncIterable(started)) return
      execution.iterator = started[Symbol.asyncIterator]()
      // Left before it could be told to stop: stop it now.
      if (execution.abandoned) await execution.iterator.return?.()
      for (;;) {
        if (execution.abandoned) break
        const step = await execution.iterator.next()
        if (step.done === true) break
        this.#results++
        execution.last = step.value
        for (const subscriber of execution.subscribers) subscriber.push(step.value)
      }
    } catch (error) {
      failure = { error }
    } finally {
      execution.ended = true
      if (this.#executions.get(key) === execution) this.#executions.delete(key)
      for (const subscriber of execution.subscribers) subscriber.end(failure)
      execution.subscribers.clear()
    }
  }

  #leave (key: string, execution: SharedExecution, subscriber: Subscriber): void {
    execution.subscribers.delete(subscriber)
    if (execution.subscribers.size > 0 || execution.ended) return
    // Nobody reads it any more: a later subscriber of the key starts afresh.
    execution.ended = true
    execution.abandoned = true
    if (this.#executions.get(key) === execution) this.#executions.delete(key)
    void execution.iterator?.return?.()?.catch(() => {})
  }
}

/**
 * What a subscription's results depend on besides the document and variables: the caller's owner
 * and role (reads are scoped by owner, fields allowed by role).
 */
function keyOf (args: ExecutionArgs): string | undefined {
  const principal = (args.contextValue as { principal?: Principal | null }).principal
  if (principal === null || principal === undefined) return undefined
  const source = args.document.loc?.source.body ?? print(args.document)
  return JSON.stringify([source, args.operationName ?? null, args.variableValues ?? null, principal.owner, principal.role])
}

/** Runs every subscription of the GraphQL server through `shared` (a plugin: last, so that it wraps the subscribe function the others leave). */
export function useSharedSubscriptions (shared: SharedSubscriptions): Plugin {
  return {
    onSubscribe ({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(async (args) => {
        const key = keyOf(args)
        if (key === undefined) return await subscribeFn(args)
        return await shared.join(key, async () => await subscribeFn(args))
      })
    }
  }
}
