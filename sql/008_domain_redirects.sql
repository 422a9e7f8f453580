-- traefik-sync schema, version 8: domain redirects (docs/spec-format.md "Domain redirects").
-- A domain may permanently (or temporarily) redirect every request to another host, keeping the
-- path and the query: {"to": HOST, "permanent": true|false, "scheme": "http"|"https"}. Such a
-- domain has no routes, and the host it redirects to does not redirect itself (no loops, no
-- chains). Existing domains get NULL (no redirect) and render exactly as before.

-- The redirect of a domain whose full domain is `self`.
CREATE FUNCTION traefik_sync_redirect_valid(v jsonb, self text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(v) k WHERE k NOT IN ('to', 'permanent', 'scheme'))
       AND jsonb_typeof(v->'to') = 'string' AND traefik_sync_is_hostname(v->>'to') AND v->>'to' <> self
       AND (NOT v ? 'permanent' OR jsonb_typeof(v->'permanent') = 'boolean')
       AND (NOT v ? 'scheme' OR (jsonb_typeof(v->'scheme') = 'string' AND v->>'scheme' IN ('http', 'https')))
  $$;

ALTER TABLE domain_configs
  ADD COLUMN redirect jsonb NULL
    CONSTRAINT domain_configs_redirect_format CHECK (redirect IS NULL OR traefik_sync_redirect_valid(redirect, full_domain));

-- Checked at commit (a spec may swap which of two domains redirects in one transaction):
-- a redirecting domain has no routes, and no active redirect points at an active domain that
-- redirects too (a loop, or a chain a client would follow hop by hop).
CREATE FUNCTION traefik_sync_check_redirect() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d domain_configs;
BEGIN
  IF TG_TABLE_NAME = 'route_configs' THEN
    SELECT * INTO d FROM domain_configs WHERE id = NEW.domain_config_id;
  ELSE
    SELECT * INTO d FROM domain_configs WHERE id = NEW.id;
  END IF;
  IF d.id IS NULL THEN RETURN NULL; END IF;
  IF d.redirect IS NOT NULL AND EXISTS (SELECT 1 FROM route_configs WHERE domain_config_id = d.id) THEN
    RAISE EXCEPTION 'domain_configs.redirect: domain % redirects, so it cannot have routes', d.full_domain
      USING ERRCODE = 'check_violation', CONSTRAINT = 'domain_configs_redirect_no_routes';
  END IF;
  IF d.is_active AND d.redirect IS NOT NULL AND EXISTS (
       SELECT 1 FROM domain_configs t WHERE t.is_active AND t.full_domain = d.redirect->>'to' AND t.redirect IS NOT NULL) THEN
    RAISE EXCEPTION 'domain_configs.redirect: % redirects to %, which redirects too (a loop or a chain)', d.full_domain, d.redirect->>'to'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'domain_configs_redirect_chain';
  END IF;
  IF d.is_active AND d.redirect IS NOT NULL AND EXISTS (
       SELECT 1 FROM domain_configs s WHERE s.is_active AND s.redirect->>'to' = d.full_domain) THEN
    RAISE EXCEPTION 'domain_configs.redirect: another domain redirects to %, which redirects too (a loop or a chain)', d.full_domain
      USING ERRCODE = 'check_violation', CONSTRAINT = 'domain_configs_redirect_chain';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER domain_configs_redirect_check AFTER INSERT OR UPDATE ON domain_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_redirect();

CREATE CONSTRAINT TRIGGER route_configs_redirect_check AFTER INSERT OR UPDATE OF domain_config_id ON route_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_redirect();
