import { STEP_STATUS, type StepView } from '../../../orders/orderView.ts'
import { builder } from '../builder.ts'

export const StepStatusEnum = builder.enumType('StepStatus', {
  description: 'Where a step of the post-order chain (or a compensation of a canceled order) stands.',
  values: {
    [STEP_STATUS.PENDING]: { description: 'Not run yet; it may be waiting for the steps before it.' },
    [STEP_STATUS.RETRYING]: { description: 'An attempt failed; it is tried again with backoff (lastError says why).' },
    [STEP_STATUS.DONE]: { description: 'Done (completedAt says when).' },
    [STEP_STATUS.FAILED]: { description: 'Failed for good: declined, refused, or its retries used up.' },
    [STEP_STATUS.SKIPPED]: { description: 'Never ran: the order was canceled or its placement failed first, or it was imported (skipReason says why).' }
  } as const
})

export const OrderStepRef = builder.objectRef<StepView>('OrderStep').implement({
  description: 'One step of the chain (reserveStock, capturePayment, createInvoice, emailInvoice, createShipment, printShippingLabel, ' +
    'updateTracking, emailShipping, exportToErp, in chain order), or a compensation a canceled order needs (releaseStock, refundPayment, emailCancellation).',
  fields: (t) => ({
    name: t.string({ resolve: (step) => step.name }),
    status: t.field({ type: StepStatusEnum, resolve: (step) => step.status }),
    attempts: t.exposeInt('attempts', { description: 'Attempts that ended, successful or not.' }),
    lastError: t.exposeString('lastError', { nullable: true, description: 'Why the last failed attempt failed.' }),
    completedAt: t.field({ type: 'DateTime', nullable: true, resolve: (step) => step.completedAt === null ? null : new Date(step.completedAt) }),
    skipReason: t.string({ nullable: true, description: 'Why an imported order did not run this step, such as "imported: paid outside the gateway".', resolve: (step) => step.skipReason ?? null })
  })
})
