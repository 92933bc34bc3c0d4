-- Rate-limit hits are granted to gateways in leases (issue 17, item 6): a gateway asks for several
-- hits at once and counts them out of memory. The database grants no more than the limit leaves;
-- last_grant is what the latest statement granted, so that the statement can return it.
ALTER TABLE rate_limit ADD COLUMN last_grant integer NOT NULL DEFAULT 0 CHECK (last_grant >= 0);
