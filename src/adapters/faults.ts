import type { Logger } from '../platform/log.ts'
import {
  TransientOutsideError, type Carrier, type ErpExporter, type LabelPrinter, type Mailer, type OutsideSystem, type PaymentProvider
} from './ports.ts'

/** Where an injected fault strikes: before the effect, or after it (the effect happened, its answer is lost). */
export const FAULT_POINT = Object.freeze({ BEFORE: 'before', AFTER: 'after' } as const)
export type FaultPoint = (typeof FAULT_POINT)[keyof typeof FAULT_POINT]

export interface FaultInjector {
  /** Runs one call to `system`, failing it transiently with that system's FAULT_RATES probability. */
  call<T> (system: OutsideSystem, operation: string, idempotencyKey: string, effect: () => Promise<T>): Promise<T>
}

/**
 * Chaos for the post-order chain (FAULT_RATES): each call to a system fails with its rate, half of
 * the faults before the effect and half after it, as a provider that did the work and whose
 * answer never arrived. The second kind is the one that matters: the retry must find the effect
 * done through its idempotency key, not do it again. One draw of `random` per call: below rate/2
 * fails before, below rate fails after, otherwise no fault.
 */
export function createFaultInjector (rates: Readonly<Record<OutsideSystem, number>>, random: () => number, log: Logger): FaultInjector {
  return {
    async call (system, operation, idempotencyKey, effect) {
      const rate = rates[system]
      if (rate <= 0) return await effect()
      const draw = random()
      const point: FaultPoint | undefined = draw < rate / 2 ? FAULT_POINT.BEFORE : draw < rate ? FAULT_POINT.AFTER : undefined
      const fail = (): TransientOutsideError => {
        log.info('injected fault', { system, operation, idempotencyKey, point })
        return new TransientOutsideError(system, `injected fault ${point} ${operation} (FAULT_RATES)`)
      }
      if (point === FAULT_POINT.BEFORE) throw fail()
      const result = await effect()
      if (point === FAULT_POINT.AFTER) throw fail()
      return result
    }
  }
}

/** The ports with every effectful call going through the injector. */
export function withFaults (faults: FaultInjector, systems: {
  payment: PaymentProvider, mailer: Mailer, erp: ErpExporter, carrier: Carrier, printer: LabelPrinter
}): typeof systems {
  const { payment, mailer, erp, carrier, printer } = systems
  return {
    payment: {
      capture: async (call) => await faults.call('payment', 'capture', call.idempotencyKey, async () => await payment.capture(call)),
      refund: async (call) => await faults.call('payment', 'refund', call.idempotencyKey, async () => await payment.refund(call)),
      // A lookup changes nothing: there is no effect to fail after.
      findCapture: async (call) => await payment.findCapture(call)
    },
    mailer: { send: async (call) => await faults.call('email', 'send', call.idempotencyKey, async () => await mailer.send(call)) },
    erp: { exportOrder: async (call) => await faults.call('erp', 'exportOrder', call.idempotencyKey, async () => await erp.exportOrder(call)) },
    carrier: {
      createShipment: async (call) => await faults.call('carrier', 'createShipment', call.idempotencyKey, async () => await carrier.createShipment(call)),
      trackingStatus: async (call) => await faults.call('carrier', 'trackingStatus', call.idempotencyKey, async () => await carrier.trackingStatus(call))
    },
    printer: { printLabel: async (call) => await faults.call('printer', 'printLabel', call.idempotencyKey, async () => await printer.printLabel(call)) }
  }
}
