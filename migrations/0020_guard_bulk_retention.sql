-- When retryBulk last reopened operations of the bulk (issue 13, item 5). Retention deletes a bulk
-- only when this is older than its cutoff, checked on the bulk row as it deletes it: a retry that
-- committed after retention read the bulk makes the delete skip it.
ALTER TABLE bulk ADD COLUMN reopened_at timestamptz;

-- Retention keeps the bulk of an order that is not final (issue 13, item 4): the few live orders,
-- by the placement operation that names their bulk.
CREATE INDEX orders_live_operation_idx ON orders (operation_id) WHERE status IN ('PLACED', 'CANCELING');
