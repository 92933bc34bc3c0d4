import fs from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it): these machines cannot download browser builds. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * Headless Chromium, with a fresh profile of its own, for end-to-end tests of pages the gateway
 * serves. As root it needs --no-sandbox; the network is closed, so Chromium's own background
 * connections are switched off.
 */
export async function launchChromium (): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (as .ci/run does)`)
  return await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
  })
}
