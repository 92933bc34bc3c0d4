import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'
import { now } from './stats.ts'

export const BULK_STATUS_SUBSCRIPTION = 'subscription ($uuid: ID!) { bulkStatus(uuid: $uuid) { status counts { open complete } } }'

export interface StatusMessage {
  readonly status: string
  readonly counts: { readonly open: number, readonly complete: number }
}

/**
 * `count` graphql-ws clients, one socket each, all subscribed to bulkStatus(uuid). Each client's
 * arrival time of the first message with `counts.complete >= k` is kept for every k, counted as it
 * comes, so that waiting costs nothing per message however many rounds have passed.
 */
export interface Subscribers {
  /** Each client's arrival time of its first message with counts.complete ≥ k; NaN for clients that timed out. */
  until (k: number, timeoutMs?: number): Promise<number[]>
  dispose (): Promise<void>
}

export async function subscribe (wsUrl: string, token: string, uuid: string, count: number): Promise<Subscribers> {
  const clients: Client[] = []
  /** reached[client][k]: when that client first saw complete ≥ k. */
  const reached: number[][] = []
  /** clientsAt[k]: how many clients have seen complete ≥ k. */
  const clientsAt: number[] = []
  let wake: () => void = () => {}
  for (let i = 0; i < count; i++) {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { authorization: `Bearer ${token}` } })
    clients.push(client)
    const mine: number[] = []
    reached.push(mine)
    client.subscribe<{ bulkStatus: StatusMessage }>({ query: BULK_STATUS_SUBSCRIPTION, variables: { uuid } }, {
      next: (result) => {
        if (!result.data) return
        const at = now()
        for (let k = mine.length; k <= result.data.bulkStatus.counts.complete; k++) {
          mine.push(at)
          clientsAt[k] = (clientsAt[k] ?? 0) + 1
        }
        wake()
      },
      error: (error) => { process.stderr.write(`subscriber ${i}: ${JSON.stringify(error)}\n`) },
      complete: () => {}
    })
    // Connect in groups, not 1,000 handshakes at once.
    if (i % 50 === 49) await new Promise(resolve => setTimeout(resolve, 20))
  }
  return {
    async until (k, timeoutMs = 15_000) {
      const deadline = now() + timeoutMs
      while ((clientsAt[k] ?? 0) < count && now() < deadline) {
        await new Promise<void>(resolve => { wake = resolve; setTimeout(resolve, 50) })
      }
      return reached.map(mine => mine[k] ?? NaN)
    },
    async dispose () {
      await Promise.all(clients.map(async client => await client.dispose()))
    }
  }
}
