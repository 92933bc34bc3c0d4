-- What left the warehouse (issue 13, item 2): a shipment turns an order's reserved units into shipped
-- ones (InventoryShipped on the SKU's stream), so `reserved` no longer only grows. On hand is
-- available + reserved; on hand + shipped is what the adjustments added up to. Rows folded before
-- this change have shipped nothing.
ALTER TABLE inventory ADD COLUMN shipped bigint NOT NULL DEFAULT 0 CHECK (shipped >= 0);
