-- Imports of historical orders (issue 15, part 4): placeOrders(mode: IMPORT) makes bulks of kind
-- 'import'. The CHECK mirrors BULK_KIND in src/operations/domain/kind.ts.

ALTER TABLE bulk DROP CONSTRAINT bulk_kind_check;
ALTER TABLE bulk ADD CONSTRAINT bulk_kind_check CHECK (kind IN ('placement', 'cancellation', 'adjustment', 'retry', 'export', 'import'));
