import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './helpers/browser.ts'
import { order, startGateway, type TestGateway } from './helpers/gateway.ts'

// While test_fault has a row for an email, placing an order for it fails for good; deleting the row lets a retry succeed.
const FAULTS = `
  CREATE TABLE test_fault (customer_email text PRIMARY KEY);
  CREATE FUNCTION test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF EXISTS (SELECT 1 FROM test_fault WHERE customer_email = NEW.customer_email) THEN
      RAISE EXCEPTION 'injected: the warehouse refused %', NEW.customer_email USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER test_fault BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION test_fault();`

let gateway: TestGateway
let browser: Browser
let page: Page
let dir: string
const shots = process.env.DASHBOARD_SCREENSHOTS // a folder: the docs' pictures are taken from this test

beforeAll(async () => {
  gateway = await startGateway()
  await gateway.sql.query(FAULTS)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-'))
  browser = await launchChromium()
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
  page.setDefaultTimeout(30_000)
})
afterAll(async () => {
  await browser?.close()
  await gateway.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

const origin = (): string => new URL(gateway.httpUrl).origin

async function screenshot (name: string): Promise<void> {
  if (shots) await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
}

describe('the dashboard at /dashboard', () => {
  it('is served by the gateway with nothing from elsewhere, and asks for a token before it shows anything', async () => {
    const outside: string[] = []
    page.on('request', request => { if (!request.url().startsWith(origin())) outside.push(request.url()) })
    const response = await page.goto(`${origin()}/dashboard`)
    expect(response!.status()).toBe(200)
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'")
    await expect(page.locator('#sign-in').isVisible()).resolves.toBe(true)
    expect(await page.locator('#page').isVisible()).toBe(false)
    await page.fill('#token', 'not-a-token-of-ours')
    await page.click('#sign-in button')
    await page.waitForSelector('#sign-in-error:has-text("not accepted")')
    expect(outside).toEqual([])
  })

  it('submits a JSONL bulk, watches its bar reach 100 %, and retries the failed operation from the page', async () => {
    await gateway.sql.query("INSERT INTO test_fault VALUES ('refused@example.com')")
    const file = path.join(dir, 'orders.jsonl')
    fs.writeFileSync(file, [order(), order({ customerEmail: 'refused@example.com' }), order()].map(o => JSON.stringify(o)).join('\n') + '\n')

    await page.fill('#token', gateway.adminToken)
    await page.click('#sign-in button')
    await page.waitForSelector('#bulks')
    await page.setInputFiles('#upload input[name=file]', file)
    await page.fill('#upload input[name=description]', 'from the browser')
    await page.click('#upload button')

    // The bulk's page: live through bulkStatus, it ends FINISHED_WITH_FAILURE with the refused order failed.
    await page.waitForSelector('h1:has-text("from the browser")')
    await page.waitForSelector('.status.FINISHED_WITH_FAILURE')
    expect(await page.getAttribute('[role=progressbar]', 'aria-valuenow')).toBe('100')
    // The bar is drawn full (its width set through the CSSOM, as the page's CSP allows no inline style).
    const [track, fill] = await Promise.all([page.locator('[role=progressbar]').boundingBox(), page.locator('[role=progressbar] > span').boundingBox()])
    expect(fill!.width).toBeCloseTo(track!.width, 0)
    await page.waitForSelector('#operations tr[data-status=NOT_RETRIABLY_FAILED]')
    const failed = await page.locator('#operations tr[data-status=NOT_RETRIABLY_FAILED] td').allTextContents()
    expect(failed.slice(0, 4)).toEqual(['1', 'NOT_RETRIABLY_FAILED', '1', 'PERMANENT_FAILURE'])
    expect(failed[4]).not.toBe('') // the message, as the API gives it
    await screenshot('bulk-failed')

    // The listing's needs-attention page shows it until it is handled.
    await page.goto(`${origin()}/dashboard#/?attention=1`)
    await page.waitForSelector('#bulks tr[data-status=FINISHED_WITH_FAILURE]')
    await screenshot('needs-attention')
    await page.click('#bulks tr[data-status=FINISHED_WITH_FAILURE] a')

    await gateway.sql.query('DELETE FROM test_fault')
    await page.click('#retry')
    await page.waitForSelector('.status.FINISHED_SUCCESSFULLY')
    await page.waitForSelector('[data-count=complete] strong:has-text("3")')
    await expect.poll(async () => await page.locator('#operations tr[data-status=COMPLETE]').count(), { timeout: 10_000 }).toBe(3)
  })

  it('follows an order to COMPLETED on its page, step by step, with its events', async () => {
    await page.click('#operations tr[data-status=COMPLETE] a')
    await page.waitForSelector('#order-status .status.COMPLETED')
    expect(await page.locator('#steps li[data-status=DONE]').count()).toBeGreaterThanOrEqual(8)
    await page.waitForSelector('#events td:has-text("OrderCompleted")')
    await screenshot('order')
  })

  it('acknowledges a finished bulk and downloads its results file with the token', async () => {
    await page.goBack()
    await page.waitForSelector('#acknowledge:not([disabled])')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')])
    const lines = fs.readFileSync((await download.path())!, 'utf8').trim().split('\n').map(line => JSON.parse(line))
    expect(lines.map(line => line.status)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE'])
    await page.click('#acknowledge')
    await page.waitForSelector('#acknowledge[disabled]')
    const uuid = page.url().split('#/bulk/')[1]
    const { data } = await gateway.gql('query ($uuid: ID!) { bulk(uuid: $uuid) { acknowledged } }', { uuid })
    expect(data.bulk.acknowledged).toBe(true)
    await page.goto(`${origin()}/dashboard#/`)
    await page.waitForSelector('#bulks tr')
    await screenshot('bulks')
  })

  it('shows admins the queues page, which leads to pg-boss\'s own dashboard', async () => {
    await page.waitForSelector('#admin-link:not([hidden])')
    await page.click('#admin-link')
    await page.waitForSelector('h1:has-text("Queues")')
    expect(await page.textContent('#page')).toContain('PGBOSS_DASHBOARD_URL')
  })
})
