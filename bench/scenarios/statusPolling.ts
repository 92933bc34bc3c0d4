import fs from 'node:fs'
import autocannon from 'autocannon'
import { startGateway, type GatewayProcess } from '../lib/gateway.ts'
import { acceptBulks } from '../lib/load.ts'
import type { Row, Scenario, ScenarioContext } from '../lib/report.ts'
import { median, round } from '../lib/stats.ts'

/** Clients polling their bulk's status: the reads most clients make. */
const CONNECTIONS = 32
const TYPENAME = '{ __typename }'
const STATUS = 'query ($uuid: ID!) { bulk(uuid: $uuid) { status counts { open complete notRetriablyFailed rejected } } }'
/** A limit no run reaches (the highest RATE_LIMIT_PER_MINUTE takes), so that every request is counted and none refused. */
const NEVER_REACHED = '100000000'

/** Each repeat is this many slices of each of the four loads, in turn, so that the machine's noise falls on all four alike. */
const SLICES = 4

/** perSecond and p99 move with the machine's load; cpuUs, the gateway process's CPU time per request (user + system), much less. */
interface PollResult { perSecond: number, p99: number, cpuUs: number }

/** The CPU time a process has used so far, in microseconds (/proc/<pid>/stat: utime + stime, in clock ticks of 10 ms). */
function cpuUsOf (pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

/**
 * Status polling (issue 17, item 6): `bulk(uuid) { status counts }` from autocannon at 32
 * connections, one token, on a gateway with the rate limit on, against `{ __typename }` on the same
 * gateway; and `{ __typename }` with the rate limit on against a second gateway with it off. The
 * two gateways share one database and are loaded one at a time, in short slices taken in turn; each
 * repeat's ratios come from its slices' requests, and the table shows the median repeat.
 */
export const statusPolling: Scenario = {
  name: 'status-polling',
  async run (context: ScenarioContext): Promise<Row[]> {
    const { singleSeconds: seconds, repeats } = context.settings
    const url = await context.createDatabase()
    const limited = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway', env: { RATE_LIMIT_PER_MINUTE: NEVER_REACHED } })
    let unlimited: GatewayProcess | undefined
    const runs = { statusOn: [] as PollResult[], typenameOn: [] as PollResult[], typenameOff: [] as PollResult[], statusOff: [] as PollResult[] }
    try {
      unlimited = await startGateway({ databaseUrl: url, token: context.token, role: 'gateway' })
      const { uuids: [uuid] } = await acceptBulks([limited.endpoint!], context.token, 10, 10, 1)
      const poll = async (gateway: GatewayProcess, query: string, duration: number): Promise<PollResult> => {
        const cpuBefore = cpuUsOf(gateway.pid)
        const result = await autocannon({
          url: gateway.endpoint!,
          connections: CONNECTIONS,
          duration,
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${context.token}` },
          body: JSON.stringify({ query, variables: query === STATUS ? { uuid } : undefined })
        })
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`status polling: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
        return { perSecond: result['2xx'] / result.duration, p99: result.latency.p99, cpuUs: (cpuUsOf(gateway.pid) - cpuBefore) / result['2xx'] }
      }
      const slices = async (duration: number): Promise<Record<keyof typeof runs, PollResult>> => {
        const taken = { typenameOn: [] as PollResult[], statusOn: [] as PollResult[], typenameOff: [] as PollResult[], statusOff: [] as PollResult[] }
        for (let i = 0; i < SLICES; i++) {
          taken.typenameOn.push(await poll(limited, TYPENAME, duration))
          taken.statusOn.push(await poll(limited, STATUS, duration))
          taken.typenameOff.push(await poll(unlimited!, TYPENAME, duration))
          taken.statusOff.push(await poll(unlimited!, STATUS, duration))
        }
        const whole = (list: readonly PollResult[]): PollResult => ({
          perSecond: list.reduce((sum, run) => sum + run.perSecond, 0) / list.length,
          p99: median(list.map(run => run.p99)),
          cpuUs: list.reduce((sum, run) => sum + run.cpuUs, 0) / list.length
        })
        return { typenameOn: whole(taken.typenameOn), statusOn: whole(taken.statusOn), typenameOff: whole(taken.typenameOff), statusOff: whole(taken.statusOff) }
      }
      await slices(1) // warm-up
      for (let i = 0; i < repeats; i++) {
        const repeat = await slices(Math.max(1, Math.round(seconds / SLICES)))
        for (const name of Object.keys(runs) as Array<keyof typeof runs>) runs[name].push(repeat[name])
      }
    } finally {
      await unlimited?.stop()
      await limited.stop()
    }
    const rate = (list: readonly PollResult[]): number => median(list.map(run => run.perSecond))
    const p99 = (list: readonly PollResult[]): number => median(list.map(run => run.p99))
    const cpu = (list: readonly PollResult[]): number => median(list.map(run => run.cpuUs))
    const shown = (list: readonly PollResult[]): string => `${Math.round(rate(list))} req/s, p99 ${round(p99(list), 1)} ms, gateway CPU ${Math.round(cpu(list))} µs/req`
    const ratios = (top: readonly PollResult[], bottom: readonly PollResult[]): number => median(top.map((run, i) => run.perSecond / bottom[i]!.perSecond))
    const polling = ratios(runs.statusOn, runs.typenameOn)
    const limitCost = ratios(runs.typenameOn, runs.typenameOff)
    return [{
      scenario: `status polling (bulk(uuid) { status counts }, ${CONNECTIONS} connections, rate limit on)`,
      figure: shown(runs.statusOn),
      baseline: `{ __typename }, rate limit on: ${shown(runs.typenameOn)}`,
      ratio: polling,
      target: '≥ 0.7×',
      pass: polling >= 0.7,
      runs
    }, {
      scenario: `rate limit cost ({ __typename }, ${CONNECTIONS} connections, on vs off)`,
      figure: `on: ${shown(runs.typenameOn)}`,
      baseline: `off: ${shown(runs.typenameOff)}; status off: ${shown(runs.statusOff)}`,
      ratio: limitCost,
      target: '≥ 0.9×',
      pass: limitCost >= 0.9
    }]
  }
}
