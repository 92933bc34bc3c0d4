import type { ApiTokenRow } from '../../../access/sql/apiTokens.ts'
import { ownerProblem, ROLE, ROLES } from '../../../access/principal.ts'
import type { CreatedToken } from '../../../access/tokens.ts'
import { z } from 'zod'
import { builder } from '../builder.ts'
import { uuidArg } from '../query.ts'

export const RoleEnum = builder.enumType('Role', {
  values: {
    CUSTOMER: { value: ROLE.CUSTOMER, description: "A shop's customer: sees only its own work." },
    INTEGRATION: { value: ROLE.INTEGRATION, description: 'A system integrating with the gateway: sees only its own work.' },
    ADMIN: { value: ROLE.ADMIN, description: 'Sees and acts on everything; manages tokens.' }
  }
})

export const ApiTokenRef = builder.objectRef<ApiTokenRow>('ApiToken').implement({
  description: 'An API token, without its secret (stored only as a hash).',
  fields: (t) => ({
    id: t.exposeID('id'),
    owner: t.exposeString('owner'),
    role: t.field({ type: RoleEnum, resolve: (token) => token.role as (typeof ROLES)[number] }),
    createdAt: t.field({ type: 'DateTime', resolve: (token) => token.created_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (token) => token.last_used_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (token) => token.revoked_at })
  })
})

export const CreatedApiTokenRef = builder.objectRef<CreatedToken>('CreatedApiToken').implement({
  description: 'A new token. `token` is shown this once; only its hash is stored.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send it as `Authorization: Bearer <token>`.' }),
    id: t.id({ resolve: (created) => created.row.id }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (created) => created.row })
  })
})

const ownerArg = z.string().trim().min(1).max(200)

builder.queryField('apiTokens', (t) => t.field({
  type: [ApiTokenRef],
  authScopes: { admin: true },
  description: 'Every API token (admins only).',
  resolve: async (_, __, { services }) => await services.apiTokens()
}))

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreatedApiTokenRef,
    authScopes: { admin: true },
    description: 'Creates an API token for an owner (admins only).',
    args: {
      owner: t.arg.string({ required: true, validate: ownerArg }),
      role: t.arg({ type: RoleEnum, required: true })
    },
    validate: z.object({ owner: z.string(), role: z.string() }).superRefine(({ owner, role }, ctx) => {
      const problem = ownerProblem(owner.trim(), role)
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, path: ['owner'] })
    }),
    resolve: async (_, { owner, role }, { services }) => await services.createApiToken(owner.trim(), role)
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    nullable: true,
    authScopes: { admin: true },
    description: 'Revokes a token at once (admins only); null when there is no such token.',
    args: { id: t.arg.id({ required: true, validate: uuidArg }) },
    resolve: async (_, { id }, { services }) => await services.revokeApiToken(String(id))
  })
}))
