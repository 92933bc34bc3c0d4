import fs from 'node:fs'
import path from 'node:path'
import { createClient, type Client } from 'graphql-ws'
import WebSocket from 'ws'

/** The gateway refused a request, or could not be reached: the message is one line for the terminal. */
export class GatewayError extends Error {
  override name = 'GatewayError'
}

export interface GatewayOptions {
  /** The GraphQL endpoint over HTTP, e.g. http://localhost:4000/graphql; the WebSocket URL is derived from it. */
  readonly url: string
  /** An API token or a JWT, sent as `Authorization: Bearer <token>` (and in graphql-ws's connection_init). */
  readonly token: string
}

/** A GraphQL client of the gateway over HTTP (queries, mutations, multipart uploads) and graphql-ws (subscriptions). */
export class Gateway {
  readonly #options: GatewayOptions
  #ws: Client | undefined

  constructor (options: GatewayOptions) {
    this.#options = options
  }

  /** Runs a query or mutation; a GraphQL error or a refused request throws GatewayError with the gateway's message. */
  async request<T> (query: string, variables: Record<string, unknown> = {}): Promise<T> {
    return await this.#post<T>(JSON.stringify({ query, variables }), { 'content-type': 'application/json' })
  }

  /**
   * Runs a mutation whose `$file: Upload!` variable is `file`, streamed from disk as a GraphQL
   * multipart request (the file is not read into memory).
   */
  async upload<T> (query: string, variables: Record<string, unknown>, file: string): Promise<T> {
    const form = new FormData()
    form.set('operations', JSON.stringify({ query, variables: { ...variables, file: null } }))
    form.set('map', JSON.stringify({ 0: ['variables.file'] }))
    form.set('0', await fs.openAsBlob(file, { type: 'application/jsonl' }), path.basename(file))
    // A multipart request is one a browser could send cross-site: the gateway asks for this header.
    return await this.#post<T>(form, { 'graphql-require-preflight': '1' })
  }

  /** The results of a subscription, one by one, until it completes; an error ends it with GatewayError. */
  async * subscribe<T> (query: string, variables: Record<string, unknown>): AsyncGenerator<T> {
    this.#ws ??= createClient({
      url: this.#options.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 3,
      connectionParams: { authorization: `Bearer ${this.#options.token}` }
    })
    try {
      for await (const result of this.#ws.iterate<T>({ query, variables })) {
        if (result.errors) throw new GatewayError(result.errors.map(error => error.message).join('; '))
        yield result.data as T
      }
    } catch (error) {
      if (error instanceof GatewayError) throw error
      // graphql-ws rejects with a CloseEvent (code, reason) or an Error.
      const close = error as { code?: number, reason?: string, message?: string }
      throw new GatewayError(close.reason ? `${close.reason} (${close.code})` : close.message ?? `the WebSocket closed (${close.code})`)
    }
  }

  async close (): Promise<void> {
    await this.#ws?.dispose()
  }

  async #post<T> (body: string | FormData, headers: Record<string, string>): Promise<T> {
    let response: Response
    try {
      response = await fetch(this.#options.url, { method: 'POST', body, headers: { ...headers, authorization: `Bearer ${this.#options.token}` } })
    } catch (error) {
      throw new GatewayError(`cannot reach the gateway at ${this.#options.url}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`)
    }
    const text = await response.text()
    let parsed: { data?: T, errors?: Array<{ message: string }> }
    try {
      parsed = JSON.parse(text) as typeof parsed
    } catch {
      throw new GatewayError(`the gateway answered ${response.status} without GraphQL: ${text.slice(0, 200)}`)
    }
    if (parsed.errors?.length) throw new GatewayError(parsed.errors.map(error => error.message).join('; '))
    if (!response.ok || parsed.data === undefined) throw new GatewayError(`the gateway answered ${response.status}`)
    return parsed.data
  }
}
