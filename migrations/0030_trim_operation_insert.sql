-- What every accepted operation paid for at insert that no query needs (issue 17, item 1). Each
-- part's cost is measured by the bench's insert-costs scenario (bench/README.md); what stays is
-- listed there with the queries that need it.

-- The foreign key from operation to bulk. Its check ran once per inserted row (a 1,000-operation
-- bulk: 1,000 lookups of the same bulk row, the largest single part of the insert after the rows
-- themselves), for an integrity the code already keeps:
-- * an operation is written only in the transaction, and the statement or chunk series, that
--   writes its bulk: insertBulkWithOperations and insertBulksWithOperations insert the bulk in the
--   same statement, and insertOperations (a bulk's later chunks, same transaction) takes its
--   bulk_uuid from the bulk row itself, NULL (refused: NOT NULL) when there is none
--   (src/operations/sql/bulks.ts, groupAccept.ts; test/operationInsert.test.ts). No other
--   transaction can see, so delete, a bulk before it commits;
-- * a bulk is deleted only by retention, whose statement deletes its operations with it
--   (src/operations/sql/retention.ts; test/retention.test.ts), as ON DELETE CASCADE did.
-- Orders keep their own foreign key to operation (ON DELETE SET NULL).
ALTER TABLE operation DROP CONSTRAINT operation_bulk_uuid_fkey;

-- The claim's look-up of the earlier unfinished operations of an order (startOperations) is served
-- as well by operation_ordering_key_idx, which cancelOrder and imports need anyway: an order has a
-- handful of operations, whose seq and status are filtered on their rows. This partial copy cost
-- an index entry (and its WAL record) per accepted placement.
DROP INDEX operation_ordering_idx;
