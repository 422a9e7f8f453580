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

-- A service name that a route of project `p` splits to or falls back on and the project does not have.
CREATE FUNCTION traefik_sync_missing_route_service(p uuid) RETURNS text
  LANGUAGE sql STABLE AS $$
    SELECT refs.s FROM (
      SELECT e->>'service' AS s
        FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id,
             jsonb_array_elements(CASE WHEN jsonb_typeof(r.split) = 'array' THEN r.split ELSE '[]' END) e
       WHERE d.project_id = p
      UNION ALL
      SELECT r.failover->>'service'
        FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
       WHERE d.project_id = p AND r.failover IS NOT NULL
    ) refs
    WHERE NOT EXISTS (SELECT 1 FROM services s WHERE s.project_id = p AND s.name = refs.s)
    LIMIT 1
  $$;

-- Checked at commit (a spec may add a service and the route naming it in any order; a service
-- still named by a split or failover cannot be removed or renamed).
CREATE FUNCTION traefik_sync_check_route_services() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p uuid; missing text;
BEGIN
  IF TG_TABLE_NAME = 'route_configs' THEN
    SELECT d.project_id INTO p FROM domain_configs d WHERE d.id = NEW.domain_config_id;
  ELSIF TG_OP = 'DELETE' THEN
    p := OLD.project_id;
  ELSE
    p := OLD.project_id;
  END IF;
  IF p IS NULL THEN RETURN NULL; END IF;
  missing := traefik_sync_missing_route_service(p);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'route_configs.split: no service named % in the project', quote_literal(missing)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'route_configs_split_services_exist';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER route_configs_split_services AFTER INSERT OR UPDATE OF split, failover, domain_config_id ON route_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_route_services();
CREATE CONSTRAINT TRIGGER services_split_services AFTER UPDATE OF name, project_id OR DELETE ON services
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_route_services();
