import { NOTIFICATION_STATE } from '../../../operations/sql/notifications.ts'
import type { AttemptView, NotificationView } from '../../../operations/webhooks/read.ts'
import { builder } from '../builder.ts'
import { READ_COST } from '../complexity.ts'
import { BulkRef } from './bulk.ts'

// What these fields ask of the application, added to Services from here so that the results and
// notification part of issue 3 stays in its own files; src/app.ts provides them.
export const BulkNotificationStateEnum = builder.enumType('BulkNotificationState', {
  values: {
    [NOTIFICATION_STATE.PENDING]: { description: 'Being delivered, or waiting for a retry.' },
    [NOTIFICATION_STATE.DELIVERED]: { description: 'The receiver answered with a 2xx status.' },
    [NOTIFICATION_STATE.FAILED]: { description: 'Every attempt failed; no more will be made.' }
  } as const
})

export const BulkNotificationAttemptRef = builder.objectRef<AttemptView>('BulkNotificationAttempt').implement({
  description: 'One attempt to deliver a webhook.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: '1 for the first attempt.' }),
    url: t.exposeString('url', { description: 'Where it was POSTed.' }),
    attemptedAt: t.field({ type: 'DateTime', resolve: (a) => a.attemptedAt }),
    durationMs: t.exposeInt('durationMs', { description: 'How long the attempt took; 0 when nothing was sent (the destination was refused).' }),
    httpStatus: t.exposeInt('httpStatus', { nullable: true, description: "The receiver's HTTP status; null when there was no answer." }),
    error: t.exposeString('error', { nullable: true, description: 'Why the attempt failed (a non-2xx status, a timeout, a refused connection, a destination not sent to); null when it was delivered.' }),
    delivered: t.exposeBoolean('delivered')
  })
})

export const BulkNotificationRef = builder.objectRef<NotificationView>('BulkNotification').implement({
  description: "The webhook sent to the bulk's notifyUrl for one finish (a bulk retried and finished again is notified again).",
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Also sent as `webhook-id` with every attempt, for the receiver to drop repeats.' }),
    url: t.exposeString('url'),
    state: t.field({ type: BulkNotificationStateEnum, resolve: (n) => n.state }),
    finishedAt: t.field({ type: 'DateTime', description: 'The finish it announces.', resolve: (n) => n.finishedAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (n) => n.createdAt }),
    settledAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was delivered or given up on.', resolve: (n) => n.settledAt }),
    attempts: t.field({ type: [BulkNotificationAttemptRef], description: 'Every attempt so far, oldest first.', resolve: (n) => n.attempts })
  })
})

builder.objectFields(BulkRef, (t) => ({
  resultsUrl: t.string({
    description: "Where to GET the bulk's results file: one JSON line per operation in request order (index, id, status, then result or errorCode and message).",
    resolve: (bulk, _args, { services }) => services.resultsUrl(bulk.uuid)
  }),
  notifications: t.field({
    type: [BulkNotificationRef],
    description: 'Webhooks sent to notifyUrl when the bulk finished, with their delivery attempts.',
    complexity: { field: READ_COST, multiplier: 10 },
    resolve: async (bulk, _args, { services }) => await services.bulkNotifications(bulk.uuid)
  })
}))
