import { GraphQLError, type ExecutionResult } from 'graphql'
import { isAsyncIterable, type Plugin } from 'graphql-yoga'
import type { Principal } from '../../access/principal.ts'
import { REQUEST_ERROR_CODE } from '../../operations/errors.ts'

/** What the plugin needs of src/access/revocations.ts. */
export interface Revocations {
  watch (principal: Principal, onEnded: () => void): () => void
}

/** The last result of a subscription whose credentials were revoked. */
function revokedResult (): ExecutionResult {
  return { errors: [new GraphQLError('the credentials were revoked: this subscription has ended', { extensions: { code: REQUEST_ERROR_CODE.UNAUTHENTICATED } })] }
}

/**
 * Ends a subscription when the API token that started it is revoked (issue 12, item 10): its
 * stream yields one last result, an UNAUTHENTICATED error, then completes, over whatever
 * transport carries it; the feed it read is returned (unsubscribed) at once. Credentials are
 * otherwise checked when an operation starts, so without this a revoked caller would keep
 * receiving an order's customer data for as long as the order goes on.
 */
export function useEndOnRevocation (revocations: Revocations): Plugin {
  return {
    onSubscribe ({ args }) {
      const principal = (args.contextValue as { principal?: Principal | null }).principal
      if (principal === null || principal === undefined) return
      return {
        onSubscribeResult ({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilRevoked(result, (ended) => revocations.watch(principal, ended)))
        }
      }
    }
  }
}

/**
 * The results of `source` until `watch` says the credentials ended, then revokedResult. Written as
 * an iterator rather than an async generator so that return() reaches the source at once, even
 * while a next() waits on it (graphql-ws returns every subscription of a socket that closes).
 */
function untilRevoked (source: AsyncIterable<ExecutionResult>, watch: (ended: () => void) => () => void): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]()
  let revoke: () => void = () => {}
  const revoked = new Promise<null>(resolve => { revoke = () => resolve(null) })
  const unwatch = watch(revoke)
  let open = true
  const finish = async (): Promise<void> => {
    if (!open) return
    open = false
    unwatch()
    await iterator.return?.()
  }
  return {
    [Symbol.asyncIterator] () { return this },
    async next () {
      if (!open) return { done: true, value: undefined }
      const step = await Promise.race([iterator.next(), revoked])
      if (step === null) {
        // Stop reading the feed now; the error result is the stream's last.
        finish().catch(() => {})
        return { done: false, value: revokedResult() }
      }
      if (step.done === true) {
        open = false
        unwatch()
      }
      return step
    },
    async return () {
      await finish()
      return { done: true, value: undefined }
    },
    async throw (error: unknown) {
      await finish()
      throw error
    }
  }
}
