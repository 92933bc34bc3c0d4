-- Per-caller rate limits shared by every gateway process (issue 5, "Limits against hostile or
-- broken clients"). One row per caller key: the fixed window it is counting in and its hits there.
-- A hit in a later window starts the row over (the old window is overwritten, not kept), so an
-- active caller never has more than one row; rows of callers that went quiet are swept, a few at a
-- time, by the statement that opens a new window (src/security/rateLimitQueries.ts).
CREATE TABLE rate_limit (
  -- The caller: an API token's id or a JWT's subject, else `ip:<address>` (src/security/rateLimit.ts).
  key          text PRIMARY KEY CHECK (key <> '' AND length(key) <= 300),
  -- Start of the window being counted, a multiple of the window length since the epoch.
  window_start timestamptz NOT NULL,
  hits         integer NOT NULL CHECK (hits > 0)
);

-- The sweep looks for the oldest windows.
CREATE INDEX rate_limit_window_start_idx ON rate_limit (window_start);
