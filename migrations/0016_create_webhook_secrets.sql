-- Webhook signing secrets, one per owner (issue 12, item 13): a webhook's signature proves which
-- owner's work it reports, not only that the gateway sent it. Signatures follow the Standard Webhooks
-- specification (src/platform/signature.ts), whose HMAC needs the secret itself, so it is kept as
-- is, not hashed: in this table only, read by the webhook worker and written by rotateWebhookSecret;
-- no GraphQL field, log line or notification row shows it (docs/security.md).
CREATE TABLE webhook_secret (
  -- bulk.owner: an API token's owner, or jwt:<subject>.
  owner               text PRIMARY KEY,
  -- whsec_<base64 of 32 random bytes>.
  secret              text NOT NULL CHECK (secret LIKE 'whsec\_%'),
  created_at          timestamptz NOT NULL DEFAULT now(),
  -- The secret a rotation replaced, which still signs alongside the new one until previous_expires_at,
  -- so that receivers can switch without losing a webhook.
  previous_secret     text CHECK (previous_secret LIKE 'whsec\_%'),
  previous_expires_at timestamptz,
  CHECK ((previous_secret IS NULL) = (previous_expires_at IS NULL))
);
