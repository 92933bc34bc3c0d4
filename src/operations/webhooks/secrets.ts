import { run, type Db } from '../../platform/db/pool.ts'
import { newStandardSecret } from '../../platform/signature.ts'
import {
  insertWebhookSecret, rotateWebhookSecret as rotateQuery, selectSigningSecrets, type SigningSecretsRow, type WebhookSecretRow
} from '../sql/webhookSecrets.ts'

/** How long a replaced secret keeps signing by default, so receivers can switch without losing a webhook. */
export const DEFAULT_PREVIOUS_VALID_HOURS = 24
/** The longest a replaced secret may keep signing. */
export const MAX_PREVIOUS_VALID_HOURS = 24 * 7

/**
 * The secrets an owner's webhooks are signed with now: its current one first, then the one a
 * rotation replaced while that is still valid. An owner's first webhook creates its secret, so that
 * webhooks work without any setting (issue 16); the owner learns a secret by rotating it.
 */
export async function signingSecretsOf (db: Db, owner: string): Promise<string[]> {
  let [row] = await run<SigningSecretsRow>(db, selectSigningSecrets(owner))
  if (!row) {
    // Racing first webhooks of one owner: the first insert wins and every one reads the winner.
    await run(db, insertWebhookSecret(owner, newStandardSecret()))
    ;[row] = await run<SigningSecretsRow>(db, selectSigningSecrets(owner))
  }
  return row!.previous_secret === null ? [row!.secret] : [row!.secret, row!.previous_secret]
}

/** A new signing secret for the owner, returned this once; the replaced one signs too for `previousValidHours`. */
export async function rotateWebhookSecret (db: Db, owner: string, previousValidHours: number): Promise<WebhookSecretRow> {
  const [row] = await run<WebhookSecretRow>(db, rotateQuery(owner, newStandardSecret(), previousValidHours))
  return row!
}
