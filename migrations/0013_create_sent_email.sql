-- Emails sent through SMTP_URL, by idempotency key (src/adapters/email/smtp.ts). SMTP has no
-- idempotency of its own: without this record, a step whose transaction rolled back after its
-- emails went out (a batch failing, an attempt running past its expiry) would send them again on
-- its retry. The row is written once the server accepted the message; a send that finds its key
-- here answers the first Message-ID and sends nothing. (The outbox default needs no table: its
-- file is named after the key.) What remains is the instant between the server's acceptance and
-- this insert; the Message-ID, made from the key, lets receivers drop that repeat.
CREATE TABLE sent_email (
  idempotency_key text PRIMARY KEY CHECK (idempotency_key <> '' AND length(idempotency_key) <= 500),
  message_id      text NOT NULL,
  sent_at         timestamptz NOT NULL DEFAULT now()
);
