import { createHash } from 'node:crypto'
import { waitUnlessAbandoned } from '../abandon.ts'
import type { CarrierSimulatorConfig } from '../options.ts'
import type { Logger } from '../../platform/log.ts'
import type { Carrier } from '../ports.ts'

/** The simulated carrier's name, as shipments and labels carry it. */
export const SIMULATED_CARRIER = 'SIMPOST'

/** Statuses a parcel goes through, in this order. */
export const TRACKING_STATUS = Object.freeze({
  LABEL_CREATED: 'LABEL_CREATED',
  IN_TRANSIT: 'IN_TRANSIT',
  DELIVERED: 'DELIVERED'
} as const)

/** How long a simulated parcel spends in each status before the next one. */
export const SIMULATED_LEG_MS = 60_000

/** `1Z` and 16 upper-case hex digits, as the simulator makes them (UPS-like). */
const TRACKING_NUMBER = /^1Z[0-9A-F]{16}$/

function digest (label: string, idempotencyKey: string): string {
  return createHash('sha256').update(`${label}\0${idempotencyKey}`, 'utf8').digest('hex')
}

/**
 * A carrier that needs no storage to be idempotent: the shipment is a function of the key (the
 * same key answers the same shipment id and tracking number, in every process, forever), as a
 * carrier API keyed by our reference would answer.
 *
 * Tracking: a parcel shipped by this process is LABEL_CREATED, then IN_TRANSIT after
 * SIMULATED_LEG_MS, then DELIVERED after twice that; one it has not seen (shipped before a
 * restart, or by another process) is IN_TRANSIT. A number not of its format is a bug: plain Error.
 */
export function createCarrierSimulator (config: CarrierSimulatorConfig, deps: { readonly log: Logger, readonly now: () => Date }): Carrier {
  const log = deps.log.child({ system: 'carrier' })
  const shippedAt = new Map<string, number>()
  const latency = async (signal: AbortSignal | undefined): Promise<void> => { await waitUnlessAbandoned('carrier', config.latencyMs, signal) }
  return {
    async createShipment (call) {
      await latency(call.signal)
      const trackingNumber = `1Z${digest('tracking', call.idempotencyKey).slice(0, 16).toUpperCase()}`
      const shipmentId = `shp_${digest('shipment', call.idempotencyKey).slice(0, 24)}`
      if (!shippedAt.has(trackingNumber)) {
        shippedAt.set(trackingNumber, deps.now().getTime())
        log.info('shipment created', { idempotencyKey: call.idempotencyKey, orderNumber: call.orderNumber, trackingNumber })
      }
      return { shipmentId, carrier: SIMULATED_CARRIER, trackingNumber }
    },

    async trackingStatus (call) {
      await latency(call.signal)
      if (!TRACKING_NUMBER.test(call.trackingNumber)) throw new Error(`carrier: "${call.trackingNumber}" is not a ${SIMULATED_CARRIER} tracking number`)
      const since = shippedAt.get(call.trackingNumber)
      if (since === undefined) return { status: TRACKING_STATUS.IN_TRANSIT }
      const legs = Math.floor((deps.now().getTime() - since) / SIMULATED_LEG_MS)
      return { status: legs <= 0 ? TRACKING_STATUS.LABEL_CREATED : legs === 1 ? TRACKING_STATUS.IN_TRANSIT : TRACKING_STATUS.DELIVERED }
    }
  }
}
