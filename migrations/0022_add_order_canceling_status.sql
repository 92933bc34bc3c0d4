-- An order canceled while its compensations (or the answer of a payment capture under way) are still
-- to come is CANCELING; it becomes CANCELED, final, when nothing more can happen to it (issue 13,
-- item 10). Rows written before keep the status they had until their next event or a rebuild.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('PLACED', 'COMPLETED', 'CANCELING', 'CANCELED', 'FAILED'));

