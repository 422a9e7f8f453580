-- traefik-sync schema, version 9: named middlewares shared by a project's routes
-- (docs/spec-format.md "Shared middlewares"). Defined once per project — one Traefik middleware
-- each: {"forwardAuth": {...}}, {"errors": {...}}, {"chain": {"middlewares": [names]}}, … — and
-- used by routes with {"use": NAME} in their middleware chain. Existing rows use none.

-- A jsonb object with exactly one key whose value is an object (one middleware type).
CREATE FUNCTION traefik_sync_is_one_middleware(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND (SELECT count(*) FROM jsonb_object_keys(v)) = 1
       AND (SELECT jsonb_typeof(value) FROM jsonb_each(v)) = 'object'
  $$;

CREATE TABLE project_middlewares (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        text NOT NULL
              CONSTRAINT project_middlewares_name_format CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  middleware  jsonb NOT NULL
              CONSTRAINT project_middlewares_middleware_format CHECK (traefik_sync_is_one_middleware(middleware)),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT project_middlewares_name_key UNIQUE (project_id, name)
);

-- Audit, change notification and updated_at, like every table of the desired state.
CREATE OR REPLACE FUNCTION traefik_sync_project_of(p_table text, p_row jsonb) RETURNS uuid
  LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
  IF p_row IS NULL THEN RETURN NULL; END IF;
  CASE p_table
    WHEN 'projects' THEN result := (p_row->>'id')::uuid;
    WHEN 'services', 'domain_configs', 'project_middlewares' THEN result := (p_row->>'project_id')::uuid;
    WHEN 'route_configs', 'certificates' THEN
      SELECT d.project_id INTO result FROM domain_configs d WHERE d.id = (p_row->>'domain_config_id')::uuid;
    ELSE result := NULL;
  END CASE;
  RETURN result;
END $$;

CREATE TRIGGER project_middlewares_changed AFTER INSERT OR UPDATE OR DELETE ON project_middlewares
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_row_changed();
CREATE TRIGGER project_middlewares_truncated AFTER TRUNCATE ON project_middlewares
  FOR EACH STATEMENT EXECUTE FUNCTION traefik_sync_truncated();
CREATE TRIGGER project_middlewares_updated_at BEFORE UPDATE ON project_middlewares
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_set_updated_at();

-- A name used in project `p` (by a route's {"use": NAME}, or a shared chain) that it does not define.
CREATE FUNCTION traefik_sync_missing_middleware(p uuid) RETURNS text
  LANGUAGE sql STABLE AS $$
    SELECT refs.u FROM (
      SELECT e->>'use' AS u
        FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id,
             jsonb_array_elements(CASE WHEN jsonb_typeof(r.middleware) = 'array' THEN r.middleware ELSE '[]' END) e
       WHERE d.project_id = p AND jsonb_typeof(e) = 'object' AND e ? 'use'
      UNION ALL
      SELECT c #>> '{}'
        FROM project_middlewares m,
             jsonb_array_elements(CASE WHEN jsonb_typeof(m.middleware #> '{chain,middlewares}') = 'array'
                                       THEN m.middleware #> '{chain,middlewares}' ELSE '[]' END) c
       WHERE m.project_id = p
    ) refs
    WHERE NOT EXISTS (SELECT 1 FROM project_middlewares m WHERE m.project_id = p AND m.name = refs.u)
    LIMIT 1
  $$;

-- Checked at commit (a spec may add a middleware and the routes using it in any order).
CREATE FUNCTION traefik_sync_check_middleware_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE p uuid; missing text;
BEGIN
  IF TG_TABLE_NAME = 'route_configs' THEN
    SELECT d.project_id INTO p FROM domain_configs d WHERE d.id = NEW.domain_config_id;
  ELSIF TG_OP = 'DELETE' THEN
    p := OLD.project_id;
  ELSE
    p := NEW.project_id;
  END IF;
  IF p IS NULL THEN RETURN NULL; END IF;
  missing := traefik_sync_missing_middleware(p);
  IF missing IS NOT NULL THEN
    RAISE EXCEPTION 'route_configs.middleware: no middleware named % in the project', quote_literal(missing)
      USING ERRCODE = 'check_violation', CONSTRAINT = 'project_middlewares_used_exist';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER route_configs_middleware_refs AFTER INSERT OR UPDATE OF middleware, domain_config_id ON route_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_middleware_refs();
CREATE CONSTRAINT TRIGGER project_middlewares_refs AFTER INSERT OR UPDATE OR DELETE ON project_middlewares
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_middleware_refs();
