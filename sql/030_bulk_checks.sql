-- Checks at commit that cost the same for every changed row, whatever the transaction's size.
--
-- Before: each route written in a transaction re-checked every shared-middleware reference of
-- its whole project (sql/009), and the redirect check ran for every domain written (sql/008).
-- A transaction writing many projects (a bulk apply, an import) paid more than quadratically
-- at COMMIT: 1,000 projects of 6 routes 6.9 s, 2,000 projects 54 s, 10,000 hours.
-- Now a route checks only its own `{"use": NAME}` entries, and only when it has some; a domain
-- is checked only when it redirects. What is refused is unchanged (test/db/bulk-checks.test.ts).

-- A route's own {"use": NAME} entries, as the row is at commit (later writes queue their own check).
CREATE FUNCTION traefik_sync_check_route_middleware_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r route_configs; p uuid; missing text;
BEGIN
  SELECT * INTO r FROM route_configs WHERE id = NEW.id;
  IF r.id IS NULL OR jsonb_typeof(r.middleware) IS DISTINCT FROM 'array' THEN RETURN NULL; END IF;
  SELECT d.project_id INTO p FROM domain_configs d WHERE d.id = r.domain_config_id;
  IF p IS NULL THEN RETURN NULL; END IF;
  SELECT e->>'use' INTO missing
    FROM jsonb_array_elements(r.middleware) e
   WHERE jsonb_typeof(e) = 'object' AND e ? 'use'
     AND NOT EXISTS (SELECT 1 FROM project_middlewares m WHERE m.project_id = p AND m.name = e->>'use')
   LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'route_configs.middleware: no middleware named % in the project', quote_literal(missing)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_middlewares_used_exist';
  END IF;
  RETURN NULL;
END $$;

DROP TRIGGER route_configs_middleware_refs ON route_configs;
CREATE CONSTRAINT TRIGGER route_configs_middleware_refs AFTER INSERT OR UPDATE OF middleware, domain_config_id ON route_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  WHEN (jsonb_typeof(NEW.middleware) = 'array' AND jsonb_path_exists(NEW.middleware, '$[*].use'))
  EXECUTE FUNCTION traefik_sync_check_route_middleware_refs();

-- Every check of traefik_sync_check_redirect() on a domain row is about a domain that redirects.
DROP TRIGGER domain_configs_redirect_check ON domain_configs;
CREATE CONSTRAINT TRIGGER domain_configs_redirect_check AFTER INSERT OR UPDATE ON domain_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.redirect IS NOT NULL)
  EXECUTE FUNCTION traefik_sync_check_redirect();
