import cliProgress from 'cli-progress'
import type { BulkState } from './documents.ts'

/** One line of counts: `1,200 complete · 3 failed · 2 rejected · 795 open`. */
export function describeCounts (bulk: BulkState): string {
  const { counts } = bulk
  const parts: Array<[number, string]> = [
    [counts.complete, 'complete'], [counts.retriablyFailed, 'retrying'], [counts.notRetriablyFailed, 'failed'],
    [counts.rejected, 'rejected'], [counts.canceled, 'canceled'], [counts.open, 'open']
  ]
  return parts.filter(([count]) => count > 0).map(([count, label]) => `${count.toLocaleString('en')} ${label}`).join(' · ') || 'no operations'
}

/** The summary printed when a bulk has finished (or is asked for). */
export function describeBulk (bulk: BulkState): string {
  const lines = [
    `bulk ${bulk.uuid}${bulk.description ? ` (${bulk.description})` : ''}: ${bulk.status}`,
    `  ${bulk.operationCount.toLocaleString('en')} operation(s): ${describeCounts(bulk)}`
  ]
  if (bulk.finishedAt !== null) lines.push(`  results: ${bulk.resultsUrl}`)
  return lines.join('\n')
}

/**
 * A live progress bar on stderr (so that stdout keeps only the summary): the share of final
 * operations, the counts per status, the rate and the time left at that rate. When stderr is not a
 * terminal, a line every few seconds instead of a redrawn bar.
 */
export class BulkProgress {
  readonly #bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: '{bar} {percentage}% | {value}/{total} | {counts} | {rate}/s | ETA {eta_formatted}',
    noTTYOutput: true,
    notTTYSchedule: 5000,
    etaBuffer: 20,
    hideCursor: true
  }, cliProgress.Presets.shades_classic)

  #started = false
  readonly #startedAt = Date.now()

  update (bulk: BulkState): void {
    const final = bulk.operationCount - bulk.counts.open - bulk.counts.retriablyFailed
    const seconds = Math.max((Date.now() - this.#startedAt) / 1000, 0.001)
    const payload = { counts: describeCounts(bulk), rate: Math.round(final / seconds).toLocaleString('en') }
    if (!this.#started) {
      this.#bar.start(bulk.operationCount, final, payload)
      this.#started = true
    } else {
      this.#bar.setTotal(bulk.operationCount)
      this.#bar.update(final, payload)
    }
  }

  stop (): void {
    if (this.#started) this.#bar.stop()
  }
}
