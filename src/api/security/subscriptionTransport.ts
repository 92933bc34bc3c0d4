import { GraphQLError } from 'graphql'
import type { Plugin } from 'graphql-yoga'
import { LIMIT_ERROR_CODE } from './codes.ts'

/**
 * Subscriptions run over WebSocket (graphql-ws) only. Yoga would also serve them over HTTP, as
 * Server-Sent Events (`Accept: text/event-stream`, on POST and GET), and that path has none of the
 * WebSocket's limits: no cap on operations per connection, no idle timeout, no credential check
 * per operation (issue #12, item 12). So a subscription that comes over HTTP is refused before it
 * starts: before the rate limit counts it and before its resolver reads anything. Over WebSocket
 * the operation's context has no fetch `request`; over HTTP it always has one.
 */
export function useSubscriptionsOverWebSocketOnly (): Plugin {
  return {
    onSubscribe ({ args, setResultAndStopExecution }) {
      if ((args.contextValue as { request?: Request }).request === undefined) return
      setResultAndStopExecution({
        errors: [new GraphQLError('subscriptions are served over WebSocket only (graphql-ws, protocol graphql-transport-ws, on this same URL); ' +
          'not over HTTP or Server-Sent Events', {
          extensions: { code: LIMIT_ERROR_CODE.SUBSCRIPTIONS_OVER_WEBSOCKET_ONLY, http: { status: 400 } }
        })]
      })
    }
  }
}
