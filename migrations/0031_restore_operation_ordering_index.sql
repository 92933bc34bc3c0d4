-- The partial index of unfinished operations by ordering key, back (migration 0030 dropped it as a
-- copy of operation_ordering_key_idx). The claim's check for earlier unfinished operations on the
-- same key (claimOperations) reads only the key's unfinished operations through it; through
-- operation_ordering_key_idx it reads every operation ever accepted on the key, and a stock
-- adjustment's key is its SKU (sku:…): 50,000 finished adjustments of one SKU made one claim read
-- 967 buffers (7–12 ms) against 6 (0.1 ms) with this index (test/claimCost.test.ts). An accepted
-- operation pays one index entry for it, about 2 ms per 1,000 (the bench's insert-costs scenario).
CREATE INDEX operation_ordering_idx ON operation (ordering_key, seq)
  WHERE ordering_key IS NOT NULL AND status IN ('OPEN', 'RETRIABLY_FAILED');
