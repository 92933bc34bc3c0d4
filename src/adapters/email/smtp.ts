import nodemailer from 'nodemailer'
import type { Logger } from '../../log.ts'
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
 * A mailer that sends through an SMTP server. SMTP itself has no idempotency: a server that
 * accepted a message before the answer was lost gets it again on the retry (at least once). Every
 * attempt carries the same Message-ID (made from the idempotency key), by which receivers and
 * archives drop the repeat.
 *
 * Failures: a 4xx reply, a lost or refused connection and timeouts are transient; a 5xx reply, a
 * refused address or login are not (a retry would be refused again).
 */
export function createSmtpMailer (options: SmtpOptions, log: Logger): Mailer & { close (): void } {
  const transport = nodemailer.createTransport(options.smtpUrl)
  return {
    async send (call) {
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
      log.info('email sent', { idempotencyKey: call.idempotencyKey, messageId })
      return { messageId }
    },
    close () {
      transport.close()
    }
  }
}
