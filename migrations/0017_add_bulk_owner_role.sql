-- Who started a bulk, by role (mirrors ROLE in src/access/principal.ts): Magento's user_type in the
-- REST status answers (docs/magento-rest.md). Bulks accepted before this migration have none.
-- A column without a default: adding it rewrites nothing.
ALTER TABLE bulk ADD COLUMN owner_role text CHECK (owner_role IN ('customer', 'integration', 'admin'));
