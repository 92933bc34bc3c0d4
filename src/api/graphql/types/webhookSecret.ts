import { z } from 'zod'
import type { WebhookSecretRow } from '../../../operations/sql/webhookSecrets.ts'
import { DEFAULT_PREVIOUS_VALID_HOURS, MAX_PREVIOUS_VALID_HOURS } from '../../../operations/webhooks/secrets.ts'
import { builder, principal } from '../builder.ts'

export const WebhookSigningSecretRef = builder.objectRef<WebhookSecretRow>('WebhookSigningSecret').implement({
  description: "The key the caller's webhooks are signed with (Standard Webhooks), shown this once.",
  fields: (t) => ({
    secret: t.exposeString('secret', {
      description: '`whsec_` and a base64 key: give it to a Standard Webhooks library to verify `webhook-signature` (docs/bulks.md#webhooks). Not shown again.'
    }),
    owner: t.exposeString('owner', { description: 'Whose webhooks it signs: every bulk this owner creates, whichever of its tokens created it.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (row) => row.created_at }),
    previousSecretValidUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Until then webhooks carry a second signature made with the secret this one replaced; null: the replaced one signs no more.',
      resolve: (row) => row.previous_expires_at
    })
  })
})

builder.mutationField('rotateWebhookSecret', (t) => t.field({
  type: WebhookSigningSecretRef,
  description: "Gives the caller's owner a new webhook signing secret and returns it, this once. Every owner has one from its first webhook on; " +
    'rotate to learn a secret, when it may have leaked, or to change it. The replaced secret keeps signing alongside the new one for `previousValidHours`, ' +
    'so receivers switch without losing a webhook. Integration and admin callers (those that may set notifyUrl).',
  authScopes: { webhooks: true },
  args: {
    previousValidHours: t.arg.int({
      defaultValue: DEFAULT_PREVIOUS_VALID_HOURS,
      description: `How long the replaced secret still signs, in hours: 0 (at once no more, e.g. after a leak) to ${MAX_PREVIOUS_VALID_HOURS}.`,
      validate: z.number().int().min(0).max(MAX_PREVIOUS_VALID_HOURS)
    })
  },
  resolve: async (_, { previousValidHours }, context) =>
    await context.services.rotateWebhookSecret(principal(context).owner, previousValidHours ?? DEFAULT_PREVIOUS_VALID_HOURS)
}))
