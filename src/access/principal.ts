/** Roles of callers (mirrored in api_token.role, migrations/0007). */
export const ROLE = Object.freeze({
  /** A shop's customer, through a user-facing client (usually a JWT). */
  CUSTOMER: 'customer',
  /** A system integrating with the gateway (usually an API token). */
  INTEGRATION: 'integration',
  /** Sees and acts on everything; manages tokens. */
  ADMIN: 'admin'
} as const)
export type Role = (typeof ROLE)[keyof typeof ROLE]
export const ROLES: readonly Role[] = Object.values(ROLE)

/**
 * What a role may do beyond its own orders and bulks (issue 12, item 11; docs/security.md has the
 * matrix). Every caller may read and follow its own work, place and cancel orders in bulks of up to
 * CUSTOMER_MAX_BULK_SIZE, and retry, cancel and acknowledge its own bulks. Checked on the schema by
 * scope-auth (src/api/graphql/builder.ts, one scope per capability), and by any route beside it.
 */
export const CAPABILITY = Object.freeze({
  /** placeOrders of more than CUSTOMER_MAX_BULK_SIZE orders (up to MAX_BULK_SIZE). */
  LARGE_BULKS: 'largeBulks',
  /** placeOrdersFromFile: JSONL uploads of up to MAX_UPLOAD_BYTES. */
  UPLOADS: 'uploads',
  /** notifyUrl: the gateway POSTs to a URL the caller chooses. */
  WEBHOOKS: 'webhooks',
  /** retryOrder: chain steps that gave up call their outside systems again. */
  ORDER_RETRIES: 'orderRetries',
  /** placeOrders(mode: IMPORT): historical orders with given numbers and dates, no payment, no emails. */
  IMPORTS: 'imports',
  /** Everyone's work; adjustStock; API tokens. */
  ADMIN: 'admin'
} as const)
export type Capability = (typeof CAPABILITY)[keyof typeof CAPABILITY]

const CAPABILITIES: Readonly<Record<Role, ReadonlySet<Capability>>> = Object.freeze({
  /** A shopper, often self-registered through a JWT: its own orders, small bulks, nothing that reaches out. */
  customer: new Set<Capability>(),
  /** A system integrating with the gateway: the whole bulk API, for its own work. */
  integration: new Set<Capability>([CAPABILITY.LARGE_BULKS, CAPABILITY.UPLOADS, CAPABILITY.WEBHOOKS, CAPABILITY.ORDER_RETRIES, CAPABILITY.IMPORTS]),
  admin: new Set<Capability>(Object.values(CAPABILITY))
})

/** Whether the caller's role has this capability; no caller has none. */
export function can (principal: Principal | null, capability: Capability): boolean {
  return principal !== null && CAPABILITIES[principal.role].has(capability)
}

/** Owners of JWT callers are `jwt:<subject>`; API token owners may not take that form. */
export const JWT_OWNER_PREFIX = 'jwt:'

/** The owner of admin tokens made by the gateway itself (ADMIN_TOKEN, the first start's token). */
export const ADMIN_OWNER = 'admin'

/** Why an API token's owner name is not acceptable for this role, or null. */
export function ownerProblem (owner: string, role: string): string | null {
  if (owner.trim() === '' || owner.length > 200) return 'owner must be 1 to 200 characters'
  if (owner.startsWith(JWT_OWNER_PREFIX)) return `owner must not start with "${JWT_OWNER_PREFIX}" (reserved for JWT subjects)`
  // Bulks made with admin tokens belong to "admin": a customer token of that name would see them.
  if (owner === ADMIN_OWNER && role !== ROLE.ADMIN) return `owner "${ADMIN_OWNER}" is reserved for admin tokens`
  return null
}

/** Who is calling: everything they create belongs to `owner`. */
export interface Principal {
  readonly owner: string
  readonly role: Role
  /** How they authenticated: an API token (its id) or a JWT (its subject). */
  readonly via: { readonly kind: 'token', readonly tokenId: string } | { readonly kind: 'jwt', readonly subject: string }
  /** The key per-caller rate limits count under. */
  readonly rateLimitKey: string
}

/** The credential a principal used, as recorded on what it creates (Bulk.createdBy): `token:<id>` or `jwt:<subject>`. */
export function credentialOf (principal: Principal): string {
  return principal.via.kind === 'token' ? `token:${principal.via.tokenId}` : `jwt:${principal.via.subject}`
}

/**
 * Whose data a query may see: one owner's, or everyone's (admins). Every read and command of
 * bulks takes this and filters in SQL; what another owner has is answered as if it did not exist.
 */
export interface Viewer {
  /** null: all owners (admin). */
  readonly owner: string | null
}

export function viewerOf (principal: Principal): Viewer {
  return { owner: principal.role === ROLE.ADMIN ? null : principal.owner }
}
