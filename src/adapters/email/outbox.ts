import path from 'node:path'
import nodemailer from 'nodemailer'
import type { Logger } from '../../platform/log.ts'
import { throwIfAbandoned } from '../abandon.ts'
import { exists, isTransientFsError, writeFileAtomic } from '../files.ts'
import { keyFileName } from '../keys.ts'
import { TransientOutsideError, type Mailer } from '../ports.ts'
import { mailOptions, messageIdFor } from './message.ts'

export interface OutboxOptions {
  /** OUTBOX_DIR */
  readonly outboxDir: string
  /** MAIL_FROM */
  readonly from: string
}

/**
 * A mailer that delivers to a folder: each message, exactly as it would go over SMTP (RFC 5322,
 * CRLF line ends, attachments in MIME parts, made by nodemailer's stream transport), is written to
 * `<outboxDir>/<key slug>-<hash>.eml`, which any mail client opens. One file per idempotency key:
 * a key whose file exists answers without writing again, and the file appears whole (temporary
 * file, then rename) or not at all, so a retry after a crash anywhere leaves exactly one message.
 */
export function createOutboxMailer (options: OutboxOptions, log: Logger): Mailer {
  const render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' })
  return {
    async send (call) {
      const messageId = messageIdFor(call.idempotencyKey)
      const file = path.join(options.outboxDir, `${keyFileName(call.idempotencyKey)}.eml`)
      try {
        if (await exists(file)) return { messageId }
        const info = await render.sendMail(mailOptions(options.from, call))
        throwIfAbandoned('email', call.signal)
        await writeFileAtomic(file, info.message as Buffer)
      } catch (error) {
        if (isTransientFsError(error)) throw new TransientOutsideError('email', `the outbox could not be written (${(error as Error).message})`, { cause: error })
        throw error
      }
      log.info('email written to the outbox', { idempotencyKey: call.idempotencyKey, file, messageId })
      return { messageId }
    }
  }
}
