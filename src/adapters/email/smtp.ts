import nodemailer from 'nodemailer'
import { run, type Db } from '../../platform/db/pool.ts'
import type { Logger } from '../../platform/log.ts'
import { insertSentEmail, selectSentEmail } from './sentEmailSql.ts'
import { TransientOutsideError, type Mailer } from '../ports.ts'
import { mailOptions, messageIdFor } from './message.ts'

export interface SmtpOptions {
  /** SMTP_URL */
  readonly smtpUrl: string
  /** MAIL_FROM */
  readonly from: string
}

/** nodemailer's codes of failures outside any SMTP answer that are permanent: a refused address, login, or message. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EAUTH', 'EMESSAGE', 'ETLS'])
/** SMTP reply codes from this one up are permanent refusals (RFC 5321 §4.2.1: 5yz); 4yz are "try again later". */
const PERMANENT_REPLY = 500

/**
 * nodemailer's timeouts (its defaults wait up to 10 minutes on a silent socket): well inside a
 * chain job's 60 s expiry, so that a hung server fails the attempt instead of outliving it.
 */
const TIMEOUTS = Object.freeze({ connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 })

/**
 * A mailer that sends through an SMTP server. SMTP itself has no idempotency, so the keys of the
 * emails the server accepted are recorded (migrations/0013, on `db`, in a statement of their own):
 * a send whose key is there sends nothing and answers the first Message-ID. Between the server's
 * acceptance and that record, a crash or a lost answer still sends twice; every attempt carries
 * the same Message-ID (made from the key), by which receivers and archives drop the repeat.
 *
 * Failures: a 4xx reply, a lost or refused connection and timeouts are transient; a 5xx reply, a
 * refused address or login are not (a retry would be refused again).
 */
export function createSmtpMailer (options: SmtpOptions, deps: { readonly db: Db, readonly log: Logger }): Mailer & { close (): void } {
  const { db, log } = deps
  const transport = nodemailer.createTransport({ url: options.smtpUrl, ...TIMEOUTS })
  return {
    async send (call) {
      const [sent] = await run<{ message_id: string }>(db, selectSentEmail(call.idempotencyKey))
      if (sent !== undefined) return { messageId: sent.message_id }
      const messageId = messageIdFor(call.idempotencyKey)
      try {
        await transport.sendMail(mailOptions(options.from, call))
      } catch (thrown) {
        const error = thrown as Error & { code?: string, responseCode?: number }
        const permanent = (error.responseCode !== undefined && error.responseCode >= PERMANENT_REPLY) ||
          (error.responseCode === undefined && error.code !== undefined && PERMANENT_CODES.has(error.code))
        if (permanent) throw error
        throw new TransientOutsideError('email', `SMTP failed: ${error.message}`, { cause: error })
      }
      await run(db, insertSentEmail(call.idempotencyKey, messageId))
      log.info('email sent', { idempotencyKey: call.idempotencyKey, messageId })
      return { messageId }
    },
    close () {
      transport.close()
    }
  }
}
