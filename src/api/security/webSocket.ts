import { GraphQLError, type DocumentNode } from 'graphql'
import type { ConnectionInitMessage, Context, ServerOptions } from 'graphql-ws'
import type { Extra } from 'graphql-ws/use/ws'
import type { WebSocket, WebSocketServer } from 'ws'
import type { LimitsConfig } from './options.ts'
import { LIMIT_ERROR_CODE, WS_CLOSE_CODE } from './codes.ts'

type Payload = ConnectionInitMessage['payload']

export interface WebSocketLimits {
  /** For `new WebSocketServer`: `ws` closes a socket that sends a larger message with 1009. */
  readonly serverOptions: { readonly maxPayload: number }
  /** For graphql-ws's `useServer` (its third argument): ping interval in ms, 0 for none. */
  readonly keepAliveMs: number
  /** Closes the server's sockets that stay without any operation for the idle timeout. */
  watch (server: WebSocketServer): void
  /** graphql-ws options with the limits on operations per socket in front of their own hooks. */
  guard<P extends Payload, E extends Record<PropertyKey, unknown>> (options: ServerOptions<P, Extra & Partial<E>>): ServerOptions<P, Extra & Partial<E>>
}

/** Operations of one socket: graphql-ws keeps each from its subscribe message until it completes. */
function running (context: Context<any, any> | undefined): number {
  return context === undefined ? 0 : Object.keys(context.subscriptions).length
}

/**
 * WebSocket limits from the configuration: message size, operations running on one socket
 * (subscriptions, and queries or mutations sent over the socket while they run), an idle timeout
 * for sockets without any, and graphql-ws's keep-alive ping, which drops peers gone silent.
 */
export function webSocketLimits (limits: LimitsConfig): WebSocketLimits {
  const idleMs = limits.wsIdleTimeoutSeconds * 1000
  // Per socket: its graphql-ws context, once it has sent an operation, and when it last had one.
  const sockets = new WeakMap<WebSocket, { context?: Context<any, any>, lastActive: number }>()

  const touch = (context: Context<any, Extra>): void => {
    const state = sockets.get(context.extra.socket)
    if (state !== undefined) {
      state.context = context
      state.lastActive = Date.now()
    }
  }

  return {
    serverOptions: { maxPayload: limits.wsMaxMessageBytes },
    keepAliveMs: limits.wsKeepAliveSeconds * 1000,

    watch (server) {
      if (idleMs === 0) return
      server.on('connection', (socket) => {
        const state: { context?: Context<any, any>, lastActive: number } = { lastActive: Date.now() }
        sockets.set(socket, state)
        let timer: NodeJS.Timeout
        const check = (): void => {
          const now = Date.now()
          if (running(state.context) > 0) state.lastActive = now
          const idleFor = now - state.lastActive
          if (idleFor >= idleMs) {
            socket.close(WS_CLOSE_CODE.IDLE_TIMEOUT, `Idle timeout: no operation for ${limits.wsIdleTimeoutSeconds} s`)
            return
          }
          timer = setTimeout(check, idleMs - idleFor).unref()
        }
        timer = setTimeout(check, idleMs).unref()
        socket.once('close', () => clearTimeout(timer))
      })
    },

    guard (options) {
      return {
        ...options,
        onSubscribe: async (context, id, payload) => {
          touch(context)
          // graphql-ws has already entered this operation in context.subscriptions.
          if (running(context) > limits.wsMaxSubscriptions) {
            return [new GraphQLError(
              `at most ${limits.wsMaxSubscriptions} operations may run on one WebSocket (WS_MAX_SUBSCRIPTIONS); complete one, or open another connection`,
              { extensions: { code: LIMIT_ERROR_CODE.TOO_MANY_SUBSCRIPTIONS } })]
          }
          return await options.onSubscribe?.(context, id, payload)
        },
        // The idle time counts from the end of the last operation.
        onComplete: async (context, id, payload) => {
          touch(context)
          await options.onComplete?.(context, id, payload)
        }
      }
    }
  }
}

/**
 * Parses an operation that came over WebSocket, for graphql-ws's onSubscribe: a query that does not
 * parse, or is over the token limit, becomes an error for that operation. Thrown, graphql-ws would
 * take it for a server fault and close the whole socket with 4500.
 */
export function parseOperation (parse: (source: string) => DocumentNode, query: string): DocumentNode | GraphQLError[] {
  try {
    return parse(query)
  } catch (error) {
    if (error instanceof GraphQLError) return [error]
    throw error
  }
}
