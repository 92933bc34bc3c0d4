import v8 from 'node:v8'

/**
 * Keeps the gateway's heap close to what it holds live (issue 17, item 5). While a large upload is
 * written, each chunk lives across its statement's round trip and so outlives young-generation
 * collections. V8 reads that survival as a reason to grow the young generation (by about 70 MB of
 * heap at once), and lets the old generation fill with the promoted chunks up to a multiple of the
 * live heap (up to 4x) before a mark-compact. Here the young generation keeps its starting size, and
 * the old generation is collected once it has grown 30% over what the last mark-compact left: a
 * 100,000-order upload's peak RSS went from +164 to +51 MB over the idle gateway
 * (bench/README.md, memory), for more frequent collections of a heap of about 70 MB.
 *
 * V8 reads both flags each time it sizes the heap, so setting them once the process runs takes
 * effect (--max-semi-space-size, by contrast, is fixed at start-up).
 */
export function keepHeapTight (): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1')
  v8.setFlagsFromString('--heap-growing-percent=30')
}
