import type pg from 'pg'
import { collectedGauge } from '../metrics.ts'

const poolClients = collectedGauge('db_pool_clients',
  'Clients of a connection pool of this process, by pool and state: total (open connections), idle, waiting (callers queued for a connection)',
  ['pool', 'state'])

/** Reports `pool`'s connections under `name` at every scrape; returns how to stop. */
export function watchPool (name: string, pool: pg.Pool): () => void {
  return poolClients.add((set) => {
    set({ pool: name, state: 'total' }, pool.totalCount)
    set({ pool: name, state: 'idle' }, pool.idleCount)
    set({ pool: name, state: 'waiting' }, pool.waitingCount)
  })
}
