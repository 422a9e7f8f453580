-- traefik-sync schema, version 7: several upstream servers per route, with weights; sticky
-- sessions; passHostHeader (docs/spec-format.md "servers", "sticky", "passHostHeader").
-- Existing routes keep one upstream (servers null), no stickiness and passHostHeader true, so
-- they render exactly as before.

-- An upstream URL as route_configs.target_url takes it (http, https or h2c; safe characters).
CREATE FUNCTION traefik_sync_is_upstream_url(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND length(v) <= 2048 AND v ~ '^(https?|h2c)://[!#-&(-[\]-_a-z|~]+$'
  $$;

-- A JSON number that is a whole number between lo and hi.
CREATE FUNCTION traefik_sync_is_int_in(v jsonb, lo bigint, hi bigint) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND jsonb_typeof(v) = 'number' AND (v::text)::numeric = trunc((v::text)::numeric)
       AND (v::text)::numeric BETWEEN lo AND hi
  $$;

-- servers: 1–64 entries, each {"url": URL} or {"host": HOST[, "port": 1–65535]}, with an
-- optional "weight" 0–1000000 (0: no traffic), and at least one server taking traffic.
CREATE FUNCTION traefik_sync_servers_valid(v jsonb) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE s jsonb; live boolean := false;
BEGIN
  IF jsonb_typeof(v) <> 'array' OR jsonb_array_length(v) NOT BETWEEN 1 AND 64 THEN RETURN false; END IF;
  FOR s IN SELECT e FROM jsonb_array_elements(v) e LOOP
    IF jsonb_typeof(s) <> 'object' THEN RETURN false; END IF;
    IF EXISTS (SELECT 1 FROM jsonb_object_keys(s) k WHERE k NOT IN ('url', 'host', 'port', 'weight')) THEN RETURN false; END IF;
    IF (s ? 'url') = (s ? 'host') THEN RETURN false; END IF;
    IF s ? 'url' AND (jsonb_typeof(s->'url') <> 'string' OR NOT traefik_sync_is_upstream_url(s->>'url') OR s ? 'port') THEN
      RETURN false;
    END IF;
    IF s ? 'host' AND (jsonb_typeof(s->'host') <> 'string' OR NOT traefik_sync_is_hostname(s->>'host')) THEN RETURN false; END IF;
    IF s ? 'port' AND NOT traefik_sync_is_int_in(s->'port', 1, 65535) THEN RETURN false; END IF;
    IF s ? 'weight' AND NOT traefik_sync_is_int_in(s->'weight', 0, 1000000) THEN RETURN false; END IF;
    IF NOT (s ? 'weight') OR (s->>'weight')::numeric > 0 THEN live := true; END IF;
  END LOOP;
  RETURN live;
END $$;

-- sticky: {"cookie": {name?, secure?, httpOnly?, sameSite?, maxAge?}} (Traefik 3.0's cookie options).
CREATE FUNCTION traefik_sync_sticky_valid(v jsonb) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE c jsonb := v->'cookie';
BEGIN
  IF jsonb_typeof(v) <> 'object' OR c IS NULL OR jsonb_typeof(c) <> 'object' THEN RETURN false; END IF;
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(v) k WHERE k <> 'cookie') THEN RETURN false; END IF;
  IF EXISTS (SELECT 1 FROM jsonb_object_keys(c) k WHERE k NOT IN ('name', 'secure', 'httpOnly', 'sameSite', 'maxAge')) THEN
    RETURN false;
  END IF;
  IF c ? 'name' AND (jsonb_typeof(c->'name') <> 'string' OR (c->>'name') !~ '^[A-Za-z0-9_.-]{1,64}$') THEN RETURN false; END IF;
  IF c ? 'secure' AND jsonb_typeof(c->'secure') <> 'boolean' THEN RETURN false; END IF;
  IF c ? 'httpOnly' AND jsonb_typeof(c->'httpOnly') <> 'boolean' THEN RETURN false; END IF;
  IF c ? 'sameSite' AND (jsonb_typeof(c->'sameSite') <> 'string' OR (c->>'sameSite') NOT IN ('none', 'lax', 'strict')) THEN
    RETURN false;
  END IF;
  IF c ? 'maxAge' AND NOT traefik_sync_is_int_in(c->'maxAge', -1, 2147483647) THEN RETURN false; END IF;
  RETURN true;
END $$;

ALTER TABLE route_configs
  ADD COLUMN servers jsonb NULL
    CONSTRAINT route_configs_servers_format CHECK (servers IS NULL OR traefik_sync_servers_valid(servers)),
  ADD COLUMN sticky jsonb NULL
    CONSTRAINT route_configs_sticky_format CHECK (sticky IS NULL OR traefik_sync_sticky_valid(sticky)),
  ADD COLUMN pass_host_header boolean NOT NULL DEFAULT true,
  -- servers replace the single upstream (target_url, or the service's host on target_port).
  ADD CONSTRAINT route_configs_servers_or_url CHECK (servers IS NULL OR target_url IS NULL);
