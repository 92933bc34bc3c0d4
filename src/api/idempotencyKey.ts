import { z } from 'zod'

/**
 * An idempotency key, as the `idempotencyKey` argument or the `Idempotency-Key` header (GraphQL
 * and REST): 1 to 255 printable ASCII characters without spaces.
 */
export const idempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
