-- traefik-sync schema, version 10: weighted routing between services (canary, blue-green) and
-- failover to a fallback service when the primary's health check fails (docs/spec-format.md
-- "Splits and failover"). route_configs.split: 2–16 branches {"service": NAME, "port"?: PORT,
-- "weight"?: 0–1000000}; route_configs.failover: {"service": NAME, "port"?: PORT}. NAME is a
-- service of the route's project (checked at commit). Existing routes get NULL for both and
-- render exactly as before. Audit and NOTIFY come with route_configs' triggers (sql/002).

-- One branch or fallback: {"service": NAME, "port"?: 1–65535[, "weight"?: 0–1000000 when weighted]}.
CREATE FUNCTION traefik_sync_service_ref_valid(v jsonb, weighted boolean) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(v) k
                        WHERE k NOT IN ('service', 'port') AND NOT (weighted AND k = 'weight'))
       AND jsonb_typeof(v->'service') = 'string'
       AND (v->>'service') ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
       AND (NOT v ? 'port' OR traefik_sync_is_int_in(v->'port', 1, 65535))
       AND (NOT v ? 'weight' OR traefik_sync_is_int_in(v->'weight', 0, 1000000))
  $$;

-- split: 2–16 branches, at least one taking traffic (weight above 0; the default weight is 1).
CREATE FUNCTION traefik_sync_split_valid(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'array' AND jsonb_array_length(v) BETWEEN 2 AND 16
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE NOT traefik_sync_service_ref_valid(e, true))
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE NOT e ? 'weight' OR (e->>'weight')::numeric > 0)
  $$;

ALTER TABLE route_configs
  ADD COLUMN split jsonb NULL
    CONSTRAINT route_configs_split_format CHECK (split IS NULL OR traefik_sync_split_valid(split)),
  ADD COLUMN failover jsonb NULL
    CONSTRAINT route_configs_failover_format CHECK (failover IS NULL OR traefik_sync_service_ref_valid(failover, false)),
  -- A split's branches are the route's upstreams: no servers, targetUrl or stickiness of its own.
  ADD CONSTRAINT route_configs_split_alone
    CHECK (split IS NULL OR (servers IS NULL AND target_url IS NULL AND sticky IS NULL AND failover IS NULL)),
  -- Traefik fails over when the primary's health check fails: without one it never would.
  ADD CONSTRAINT route_configs_failover_health_check CHECK (failover IS NULL OR health_check IS NOT NULL);

-- Checked at commit (a spec may add a service and the route naming it in any order), per row as
-- it is at commit, at a cost that does not grow with the transaction (see sql/030): a route
-- checks only its own split and failover, and only when it has one.
CREATE FUNCTION traefik_sync_check_route_services() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r route_configs; p uuid; missing text;
BEGIN
  SELECT * INTO r FROM route_configs WHERE id = NEW.id;
  IF r.id IS NULL OR (r.split IS NULL AND r.failover IS NULL) THEN RETURN NULL; END IF;
  SELECT d.project_id INTO p FROM domain_configs d WHERE d.id = r.domain_config_id;
  IF p IS NULL THEN RETURN NULL; END IF;
  SELECT n INTO missing
    FROM (SELECT e->>'service' AS n FROM jsonb_array_elements(coalesce(r.split, '[]')) e
          UNION ALL SELECT r.failover->>'service') names
   WHERE n IS NOT NULL AND NOT EXISTS (SELECT 1 FROM services s WHERE s.project_id = p AND s.name = names.n)
   LIMIT 1;
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'route_configs.split: no service named % in the project', quote_literal(missing)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'route_configs_split_services_exist';
  END IF;
  RETURN NULL;
END $$;

-- A service removed or renamed: no route of its project may still name it (unless another
-- service of the project has the name at commit, e.g. two services trading names).
CREATE FUNCTION traefik_sync_check_service_still_named() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM services s WHERE s.project_id = OLD.project_id AND s.name = OLD.name) THEN RETURN NULL; END IF;
  IF EXISTS (
       SELECT 1 FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
        WHERE d.project_id = OLD.project_id AND (r.split IS NOT NULL OR r.failover IS NOT NULL)
          AND (r.failover->>'service' = OLD.name OR r.split @> jsonb_build_array(jsonb_build_object('service', OLD.name)))) THEN
    RAISE EXCEPTION 'route_configs.split: service % is still named by a split or failover of the project', quote_literal(OLD.name)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'route_configs_split_services_exist';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER route_configs_split_services AFTER INSERT OR UPDATE OF split, failover, domain_config_id ON route_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.split IS NOT NULL OR NEW.failover IS NOT NULL)
  EXECUTE FUNCTION traefik_sync_check_route_services();
CREATE CONSTRAINT TRIGGER services_split_services AFTER UPDATE OF name, project_id OR DELETE ON services
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_service_still_named();
