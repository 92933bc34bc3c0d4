-- Gateways keep the principals of recently used API tokens in memory (src/auth/tokenCache.ts), so
-- that a request does not cost a statement to know its caller. A revocation (or any change of who a
-- token is) tells every gateway at commit, and each drops what it keeps. last_used_at, which the
-- lookup itself refreshes, tells no one.
-- The payload says which token (its id), or '*' for a TRUNCATE; gateways empty their cache either way.
CREATE FUNCTION api_token_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('api_token_changed', CASE WHEN TG_LEVEL = 'ROW' THEN OLD.id::text ELSE '*' END);
  RETURN NULL;
END
$$;

CREATE TRIGGER api_token_changed_on_update AFTER UPDATE ON api_token
  FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.owner IS DISTINCT FROM NEW.owner
        OR OLD.role IS DISTINCT FROM NEW.role OR OLD.token_hash IS DISTINCT FROM NEW.token_hash)
  EXECUTE FUNCTION api_token_changed();

CREATE TRIGGER api_token_changed_on_delete AFTER DELETE ON api_token
  FOR EACH ROW EXECUTE FUNCTION api_token_changed();

CREATE TRIGGER api_token_changed_on_truncate AFTER TRUNCATE ON api_token
  FOR EACH STATEMENT EXECUTE FUNCTION api_token_changed();
