-- Gateways also remember, for a minute, bearer tokens they found unknown (src/access/tokenCache.ts,
-- issue 12 item 5), so that a client repeating a wrong token costs one statement, not one per
-- request. A token created later with that very value (ADMIN_TOKEN set before a gateway saw the
-- process that inserts it) must work at once: inserting a token now tells every gateway too, on
-- the channel of migration 0015, with the new token's id.
CREATE FUNCTION api_token_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('api_token_changed', NEW.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER api_token_changed_on_insert AFTER INSERT ON api_token
  FOR EACH ROW EXECUTE FUNCTION api_token_inserted();
