import pg from 'pg'
import type { Logger } from '../log.ts'

export interface ListenerOptions {
  readonly connectionString: string
  /** A channel name from our own constants (it is not quoted). */
  readonly channel: string
  readonly applicationName: string
  readonly log: Logger
  /** Each notification's payload. */
  readonly onNotification: (payload: string) => void
  /** After the connection came back: notifications sent while it was away are lost, so catch up. */
  readonly onReconnect: () => void
}

/**
 * One dedicated connection that LISTENs on a channel and comes back when it is lost (a server
 * restart, a failover, a dead TCP connection found by keepalive), retrying with backoff up to 10 s.
 */
export class ChannelListener {
  readonly #options: ListenerOptions
  #client: pg.Client | undefined
  #stopped = false
  #reconnectTimer: NodeJS.Timeout | undefined

  constructor (options: ListenerOptions) {
    this.#options = options
  }

  async start (): Promise<void> {
    this.#client = await this.#connect()
  }

  /** Whether the connection LISTENs now (false while it is being re-established); for readiness. */
  get connected (): boolean {
    return this.#client !== undefined && !this.#stopped
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#reconnectTimer)
    await this.#client?.end().catch(() => {})
  }

  async #connect (): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: this.#options.applicationName,
      keepAlive: true,
      // Notice a silently dead connection within about a minute, not the OS default of two hours.
      keepAliveInitialDelayMillis: 10_000
    })
    client.on('notification', (message) => { if (message.payload) this.#options.onNotification(message.payload) })
    client.on('error', (error) => {
      this.#options.log.warn('listening connection failed; reconnecting', { channel: this.#options.channel, error })
      this.#reconnect(client)
    })
    client.on('end', () => this.#reconnect(client))
    try {
      await client.connect()
      await client.query(`LISTEN ${this.#options.channel}`)
      return client
    } catch (error) {
      client.removeAllListeners('end')
      await client.end().catch(() => {})
      throw error
    }
  }

  #reconnect (failed: pg.Client): void {
    if (this.#stopped || this.#client !== failed) return
    this.#client = undefined
    failed.end().catch(() => {})
    const attempt = (delay: number): void => {
      this.#reconnectTimer = setTimeout(() => {
        this.#connect().then(
          async (client) => {
            if (this.#stopped) {
              await client.end().catch(() => {})
              return
            }
            this.#client = client
            this.#options.log.info('listening connection is back', { channel: this.#options.channel })
            this.#options.onReconnect()
          },
          () => { if (!this.#stopped) attempt(Math.min(delay * 2, 10_000)) }
        )
      }, delay)
    }
    attempt(250)
  }
}
