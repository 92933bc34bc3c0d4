import { createHash } from 'node:crypto'

/** The SHA-256 of an idempotency key, hex: the stable, opaque name of its effect. */
export function keyHash (idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey, 'utf8').digest('hex')
}

/** Most characters of the readable part of a file name made from a key. */
const SLUG_LENGTH = 80
/** Hex characters of the key's hash appended to that part; 64 bits keep distinct keys apart. */
const HASH_LENGTH = 16

/**
 * A file name (without extension) for the effect of one key: the key made safe for any file system,
 * so that a person browsing the outbox or spool folder sees which order it is, then part of its
 * hash, so that keys differing only in replaced characters (or beyond the slug's length) differ.
 */
export function keyFileName (idempotencyKey: string): string {
  const slug = idempotencyKey.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, SLUG_LENGTH)
  return `${slug}-${keyHash(idempotencyKey).slice(0, HASH_LENGTH)}`
}
