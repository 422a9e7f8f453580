-- traefik-sync schema, version 22: TCP and UDP routes of a project (docs/spec-format.md
-- "TCP and UDP"). A TCP route matches a server name (SNI) on one entry point, or every connection
-- there (sni '*', the catch-all), with TLS terminated by Traefik, passed through to the servers,
-- or none; a UDP route takes every datagram of one UDP entry point. Servers are host:port pairs.
-- Rendered into dynamic/<project>/tcp.yml and udp.yml. Projects without such routes are untouched.

-- servers: 1–64 entries {"host": HOST, "port": 1–65535}.
CREATE FUNCTION traefik_sync_l4_servers_valid(v jsonb) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE s jsonb;
BEGIN
  IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) NOT BETWEEN 1 AND 64 THEN RETURN false; END IF;
  FOR s IN SELECT e FROM jsonb_array_elements(v) e LOOP
    IF jsonb_typeof(s) <> 'object' THEN RETURN false; END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(s) k WHERE k NOT IN ('host', 'port')) THEN RETURN false; END IF;
    IF jsonb_typeof(s->'host') IS DISTINCT FROM 'string' OR NOT traefik_sync_is_hostname(s->>'host') THEN RETURN false; END IF;
    IF NOT traefik_sync_is_int_in(s->'port', 1, 65535) THEN RETURN false; END IF;
  END LOOP;
  RETURN true;
END $$;

CREATE TABLE l4_routes (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  protocol        text NOT NULL CONSTRAINT l4_routes_protocol_format CHECK (protocol IN ('tcp', 'udp')),
  name            text NOT NULL CONSTRAINT l4_routes_name_format CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  entry_point     text NOT NULL
                  CONSTRAINT l4_routes_entry_point_format CHECK (traefik_sync_are_entry_points(ARRAY[entry_point])),
  -- TCP: a host name, or '*' (every connection); UDP has no rule.
  sni             text NULL CONSTRAINT l4_routes_sni_format CHECK (sni IS NULL OR sni = '*' OR traefik_sync_is_hostname(sni)),
  tls             text NULL CONSTRAINT l4_routes_tls_format CHECK (tls IS NULL OR tls IN ('terminate', 'passthrough')),
  -- An ACME resolver of the static configuration for a terminated route's certificate.
  tls_resolver    text NULL CONSTRAINT l4_routes_tls_resolver_format CHECK (tls_resolver IS NULL OR tls_resolver ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
  servers         jsonb NOT NULL CONSTRAINT l4_routes_servers_format CHECK (traefik_sync_l4_servers_valid(servers)),
  proxy_protocol  smallint NULL CONSTRAINT l4_routes_proxy_protocol_format CHECK (proxy_protocol IS NULL OR proxy_protocol IN (1, 2)),
  is_active       boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT l4_routes_name_key UNIQUE (project_id, protocol, name),
  CONSTRAINT l4_routes_tcp_sni CHECK ((protocol = 'tcp') = (sni IS NOT NULL)),
  CONSTRAINT l4_routes_udp_plain CHECK (protocol = 'tcp' OR (tls IS NULL AND tls_resolver IS NULL AND proxy_protocol IS NULL)),
  -- A client sends a server name only in a TLS handshake: a named SNI needs TLS (Traefik refuses
  -- "HostSNI matcher, but no TLS on router"); only the catch-all may go without.
  CONSTRAINT l4_routes_sni_needs_tls CHECK (sni IS NULL OR sni = '*' OR tls IS NOT NULL),
  CONSTRAINT l4_routes_resolver_terminates CHECK (tls_resolver IS NULL OR tls = 'terminate')
);

-- One active owner per server name per entry point, across projects (the catch-all '*' included),
-- and one active UDP route per UDP entry point.
CREATE UNIQUE INDEX l4_routes_active_sni ON l4_routes (entry_point, sni) WHERE is_active AND protocol = 'tcp';
CREATE UNIQUE INDEX l4_routes_active_udp ON l4_routes (entry_point) WHERE is_active AND protocol = 'udp';
CREATE INDEX l4_routes_project ON l4_routes (project_id);

-- Audit, change notification and updated_at, like every table of the desired state.
CREATE OR REPLACE FUNCTION traefik_sync_project_of(p_table text, p_row jsonb) RETURNS uuid
  LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
  IF p_row IS NULL THEN RETURN NULL; END IF;
  CASE p_table
    WHEN 'projects' THEN result := (p_row->>'id')::uuid;
    WHEN 'services', 'domain_configs', 'project_middlewares', 'l4_routes' THEN result := (p_row->>'project_id')::uuid;
    WHEN 'route_configs', 'certificates' THEN
      SELECT d.project_id INTO result FROM domain_configs d WHERE d.id = (p_row->>'domain_config_id')::uuid;
    ELSE
      -- Tables of other migrations (this function is replaced whole): by the project, domain,
      -- route or service the row carries.
      IF p_row ? 'project_id' THEN result := (p_row->>'project_id')::uuid;
      ELSIF p_row ? 'domain_config_id' THEN
        SELECT d.project_id INTO result FROM domain_configs d WHERE d.id = (p_row->>'domain_config_id')::uuid;
      ELSIF p_row ? 'route_config_id' THEN
        SELECT d.project_id INTO result FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
         WHERE r.id = (p_row->>'route_config_id')::uuid;
      ELSIF p_row ? 'service_id' THEN
        SELECT s.project_id INTO result FROM services s WHERE s.id = (p_row->>'service_id')::uuid;
      ELSE result := NULL;
      END IF;
  END CASE;
  RETURN result;
END $$;

CREATE TRIGGER l4_routes_changed AFTER INSERT OR UPDATE OR DELETE ON l4_routes
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_row_changed();
CREATE TRIGGER l4_routes_truncated AFTER TRUNCATE ON l4_routes
  FOR EACH STATEMENT EXECUTE FUNCTION traefik_sync_truncated();
CREATE TRIGGER l4_routes_updated_at BEFORE UPDATE ON l4_routes
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_set_updated_at();
