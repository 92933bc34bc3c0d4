import type { AdaptersConfig } from '../adapters/options.ts'
import type { OutsideSystem } from '../adapters/ports.ts'
import { ATTEMPT_MARGIN_SECONDS, attemptSecondsFor } from '../orders/chain/topics.ts'
import { ConfigError } from '../platform/configError.ts'

/** An outside call's time limit as configured, with the variable that sets it. */
interface CallTimeout {
  readonly setting: string
  readonly ms: number
}

/** The outside calls that have a time limit of their own in this configuration (the local stand-ins have none). */
function callTimeouts (adapters: AdaptersConfig): Partial<Record<OutsideSystem, CallTimeout>> {
  return {
    ...(adapters.mail.smtpUrl !== undefined ? { email: { setting: 'SMTP_TIMEOUT_MS', ms: adapters.mail.timeoutMs } } : {}),
    ...(adapters.printer.command !== undefined ? { printer: { setting: 'PRINT_TIMEOUT_MS', ms: adapters.printer.timeoutMs } } : {}),
    ...(adapters.erp.webhookUrl !== undefined ? { erp: { setting: 'ERP_TIMEOUT_MS', ms: adapters.erp.timeoutMs } } : {})
  }
}

/** The time limits of the outside calls, in ms, for the chain's topics (src/orders/chain/topics.ts, chainTopicsWith). */
export function callTimeoutsMs (adapters: AdaptersConfig): Partial<Record<OutsideSystem, number>> {
  return Object.fromEntries(Object.entries(callTimeouts(adapters)).map(([system, timeout]) => [system, timeout.ms]))
}

/**
 * Checked at start (issue 13, item 6): with JOB_EXPIRE_SECONDS set, every outside call's time limit
 * must fit in it with the step's own reads and writes, or an attempt could outlive its expiry and
 * run beside its retry. Without it, each step's expiry follows its call's limit and nothing can clash.
 */
export function checkAttemptBudgets (expireInSeconds: number | undefined, adapters: AdaptersConfig): void {
  if (expireInSeconds === undefined) return
  for (const timeout of Object.values(callTimeouts(adapters))) {
    const needed = attemptSecondsFor(timeout.ms)
    if (expireInSeconds >= needed) continue
    const lower = (expireInSeconds - ATTEMPT_MARGIN_SECONDS) * 1000
    throw new ConfigError(`${timeout.setting} (${timeout.ms} ms) does not fit in JOB_EXPIRE_SECONDS (${expireInSeconds} s), how long one attempt of a chain step may run: ` +
      `with ${ATTEMPT_MARGIN_SECONDS} s for the step's own reads and writes it needs ${needed} s, or an attempt would outlive its expiry and run beside its retry. ` +
      `Raise JOB_EXPIRE_SECONDS to ${needed} or more${lower > 0 ? `, or lower ${timeout.setting} to ${lower} or less` : ''}, or unset JOB_EXPIRE_SECONDS (each step's expiry then fits its call)`)
  }
}
