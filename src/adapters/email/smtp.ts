import nodemailer from 'nodemailer'
import { run, type Db } from '../../platform/db/pool.ts'
import { toError, type Logger } from '../../platform/log.ts'
import { abandoned, throwIfAbandoned } from '../abandon.ts'
import { insertSentEmail, selectSentEmail } from './sentEmailSql.ts'
import { TransientOutsideError, type Mailer } from '../ports.ts'
import { mailOptions, messageIdFor } from './message.ts'

export interface SmtpOptions {
  /** SMTP_URL */
  readonly smtpUrl: string
  /** MAIL_FROM */
  readonly from: string
  /** SMTP_TIMEOUT_MS: how long one email may take in all, connection to acceptance. */
  readonly timeoutMs: number
}

/** nodemailer's codes of failures outside any SMTP answer that are permanent: a refused address, login, or message. */
const PERMANENT_CODES = new Set(['EENVELOPE', 'EAUTH', 'EMESSAGE', 'ETLS'])
/** SMTP reply codes from this one up are permanent refusals (RFC 5321 §4.2.1: 5yz); 4yz are "try again later". */
const PERMANENT_REPLY = 500
/** The longest wait for a connection and for the server's greeting, each (within SMTP_TIMEOUT_MS). */
const CONNECT_TIMEOUT_MS = 10_000

/**
 * A mailer that sends through an SMTP server. SMTP itself has no idempotency, so the keys of the
 * emails the server accepted are recorded (migrations/0013, on `db`, in a statement of their own):
 * a send whose key is there sends nothing and answers the first Message-ID. Every attempt carries
 * the same Message-ID (made from the key), by which receivers and archives drop a repeat.
 *
 * Delivery is at least once, with the Message-ID as the dedupe key: a worker that dies between the
 * server's acceptance and that record sends the email again on the retry. An attempt that stops
 * waiting (SMTP_TIMEOUT_MS, or its job's signal) while the server still takes the message leaves
 * the send running, and an acceptance that comes after is still recorded, so the retry finds it.
 *
 * Failures: a 4xx reply, a lost or refused connection and timeouts are transient; a 5xx reply, a
 * refused address or login are not (a retry would be refused again).
 */
export function createSmtpMailer (options: SmtpOptions, deps: { readonly db: Db, readonly log: Logger }): Mailer & { close (): void } {
  const { db, log } = deps
  // nodemailer's own timeouts (its defaults wait up to 10 minutes on a silent socket) within SMTP_TIMEOUT_MS.
  const connect = Math.min(CONNECT_TIMEOUT_MS, options.timeoutMs)
  const transport = nodemailer.createTransport({ url: options.smtpUrl, connectionTimeout: connect, greetingTimeout: connect, socketTimeout: options.timeoutMs })
  return {
    async send (call) {
      const [sent] = await run<{ message_id: string }>(db, selectSentEmail(call.idempotencyKey))
      if (sent !== undefined) return { messageId: sent.message_id }
      throwIfAbandoned('email', call.signal)
      const messageId = messageIdFor(call.idempotencyKey)
      const accepted = transport.sendMail(mailOptions(options.from, call)).then(async () => {
        await run(db, insertSentEmail(call.idempotencyKey, messageId))
        log.info('email sent', { idempotencyKey: call.idempotencyKey, messageId })
      })
      try {
        await withinDeadline(accepted, options.timeoutMs, call.signal)
      } catch (thrown) {
        // Whatever the attempt answers, a send still under way ends quietly (its record, if any, is written).
        accepted.catch((error: unknown) => log.info('an email given up on failed', { idempotencyKey: call.idempotencyKey, error: toError(error) }))
        throw classify(thrown)
      }
      return { messageId }
    },
    close () {
      transport.close()
    }
  }
}

/** Why the wait for the server ended early. */
class Deadline extends Error {}

/** `work`, or a Deadline error once `timeoutMs` passed or `signal` aborted, whichever comes first. */
async function withinDeadline (work: Promise<void>, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const timeout = AbortSignal.timeout(timeoutMs)
  const deadline = signal !== undefined ? AbortSignal.any([timeout, signal]) : timeout
  let onAbort: (() => void) | undefined
  try {
    await Promise.race([work, new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new Deadline(signal?.aborted === true ? 'abandoned' : `no answer within ${timeoutMs} ms (SMTP_TIMEOUT_MS)`))
      if (deadline.aborted) onAbort()
      else deadline.addEventListener('abort', onAbort, { once: true })
    })])
  } finally {
    if (onAbort !== undefined) deadline.removeEventListener('abort', onAbort)
  }
}

/** A failed send as the chain sees it: permanent refusals as they are, the rest transient. */
function classify (thrown: unknown): Error {
  if (thrown instanceof Deadline) {
    return thrown.message === 'abandoned' ? abandoned('email', { cause: thrown }) : new TransientOutsideError('email', `SMTP failed: ${thrown.message}`)
  }
  const error = thrown as Error & { code?: string, responseCode?: number }
  const permanent = (error.responseCode !== undefined && error.responseCode >= PERMANENT_REPLY) ||
    (error.responseCode === undefined && error.code !== undefined && PERMANENT_CODES.has(error.code))
  if (permanent) return error
  return new TransientOutsideError('email', `SMTP failed: ${error.message}`, { cause: error })
}
