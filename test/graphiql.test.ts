import type { IncomingMessage } from 'node:http'
import { parse, validate } from 'graphql'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXAMPLE_OPERATIONS, graphiqlPage } from '../src/api/graphiql.ts'
import { schema } from '../src/api/graphql/schema.ts'
import { launchChromium } from './helpers/browser.ts'
import { startGateway, type TestGateway } from './helpers/gateway.ts'

let gateway: TestGateway
let browser: Browser
let page: Page

beforeAll(async () => {
  gateway = await startGateway()
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  page.setDefaultTimeout(30_000)
}, 60_000)
afterAll(async () => {
  await browser?.close()
  await gateway?.stop()
})

/** Replaces the text of the Monaco editor inside `container` (GraphiQL's query, variables or headers editor). */
async function replaceText (container: string, text: string): Promise<void> {
  await page.click(`${container} .monaco-editor:visible .view-lines`)
  await page.keyboard.press('Control+A')
  await page.keyboard.press('Delete')
  await page.keyboard.insertText(text)
}

/** The text an editor or the response pane shows (Monaco draws spaces as no-break spaces). */
async function textOf (selector: string): Promise<string> {
  return (await page.locator(selector).innerText()).replace(/\u00a0/g, ' ')
}

describe('GraphiQL on GET /graphql', () => {
  it('loads with nothing from another origin, with the Authorization header to fill and example operations', async () => {
    const origin = new URL(gateway.httpUrl).origin
    const outside: string[] = []
    page.on('request', request => { if (!/^(blob:|data:)/.test(request.url()) && !request.url().startsWith(origin)) outside.push(request.url()) })
    const response = await page.goto(gateway.httpUrl)
    expect(response!.status()).toBe(200)
    await page.waitForSelector('.graphiql-query-editor .monaco-editor')
    expect(await page.title()).toBe('Order operations gateway')
    const query = await textOf('.graphiql-query-editor')
    expect(query).toContain('mutation PlaceOrder')
    expect(query).toContain('subscription WatchBulk')
    const headers = await textOf('.graphiql-editor-tool')
    expect(headers).toContain('Authorization')
    expect(headers).toContain('Bearer <your token>')
    expect(outside).toEqual([])
  })

  it('runs the example mutation with the token in the Headers tab, and a subscription over WebSocket with the same header', async () => {
    await replaceText('.graphiql-editor-tool', JSON.stringify({ Authorization: `Bearer ${gateway.adminToken}` }))
    await page.click('.graphiql-execute-button')
    await page.getByRole('menuitem', { name: 'PlaceOrder' }).click()
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('ACCEPTED'))
    const uuid = /"bulkUuid":\s*"([0-9a-f-]{36})"/.exec(await textOf('.graphiql-response'))![1]!

    await replaceText('.graphiql-query-editor', `subscription { bulkStatus(uuid: "${uuid}") { uuid status } }`)
    const sockets: string[] = []
    page.on('websocket', socket => sockets.push(socket.url()))
    // GraphiQL reads the editor's text after a short debounce: clicked before it, the button still
    // sees the previous tab's several operations and opens their menu instead of running this one.
    await page.waitForTimeout(1000)
    await page.click('.graphiql-execute-button')
    // The bulk's state, over graphql-ws: the socket authenticated with the Headers tab's token, sent in the operation's extensions.
    // (The worker may be slow to place it on a loaded machine: wait longer than playwright's 30 s.)
    await page.waitForFunction(() => document.querySelector('.graphiql-response')?.textContent?.includes('FINISHED_SUCCESSFULLY'), undefined, { timeout: 90_000 })
    expect(sockets).toEqual([gateway.wsUrl])
    expect(await textOf('.graphiql-response')).toContain(uuid)
  }, 150_000)
})

describe('a WebSocket opened without credentials', () => {
  const closeCode = async (extensions: Record<string, unknown> | undefined): Promise<number | string> => {
    try {
      for await (const result of gateway.wsClient(null).iterate({ query: '{ __typename }', ...(extensions ? { extensions } : {}) })) {
        return String((result.data as { __typename?: string } | undefined)?.__typename)
      }
      return 0
    } catch (error) {
      return (error as { code?: number }).code ?? -1
    }
  }

  it('takes them from its first operation\'s extensions.headers, as GraphiQL sends them, and is closed without them', async () => {
    expect(await closeCode({ headers: { Authorization: `Bearer ${gateway.adminToken}` } })).toBe('Query')
    expect(await closeCode({ headers: { authorization: 'Bearer oog_forged' } })).toBe(4403)
    expect(await closeCode({ headers: {} })).toBe(4401)
    expect(await closeCode(undefined)).toBe(4401)
  })
})

describe('GraphiQL\'s options', () => {
  const request = (host: string): Request => new Request(`http://${host}/graphql`, { headers: { host } })
  const from = (address: string): { req: IncomingMessage } => ({ req: { socket: { remoteAddress: address } } as unknown as IncomingMessage })

  it('prefill the admin token only when given one, for a browser on this machine that asked for localhost', () => {
    const page = graphiqlPage('t', 'the-admin-token')
    expect(page.options(request('localhost:4000'), from('127.0.0.1')).headers).toContain('Bearer the-admin-token')
    expect(page.options(request('127.0.0.1:4000'), from('::1')).headers).toContain('Bearer the-admin-token')
    expect(page.options(request('ops.example.com'), from('127.0.0.1')).headers).toContain('Bearer <your token>')
    expect(page.options(request('localhost:4000'), from('10.0.0.7')).headers).toContain('Bearer <your token>')
    expect(graphiqlPage('t', undefined).options(request('localhost:4000'), from('127.0.0.1')).headers).toContain('Bearer <your token>')
  })

  it('hold example operations that are valid against the schema', () => {
    expect(validate(schema, parse(EXAMPLE_OPERATIONS)).map(error => error.message)).toEqual([])
  })
})
