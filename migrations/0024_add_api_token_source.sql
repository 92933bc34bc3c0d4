-- Where each API token came from (issue 12, item 7), mirrored in TOKEN_SOURCE (src/access/tokens.ts):
-- 'issued' by createApiToken or `npm run token`, 'admin_token' from the ADMIN_TOKEN variable,
-- 'first_start' printed by the first start of the embedded default. A start with ADMIN_TOKEN no
-- longer makes a revoked one active again, and retires the ADMIN_TOKEN tokens created before its
-- own, so that changing the variable retires the old value.
-- Tokens created before this migration are all 'issued': the ADMIN_TOKEN in use is marked at the
-- next start that sets it; an older value of the variable is not known here, and stays as it is.
ALTER TABLE api_token ADD COLUMN source text NOT NULL DEFAULT 'issued'
  CHECK (source IN ('issued', 'admin_token', 'first_start'));
