-- traefik-sync schema, version 21: entry points chosen per domain or per route
-- (docs/spec-format.md "Entry points"). NULL keeps the generated choice (websecure with TLS plus
-- the http→https redirect on web, or web alone), so existing rows render exactly as before.
-- Whether a name is an entry point Traefik defines is a fact of the static configuration, not of
-- the database: the renderer and the config service check it (src/render/entry-points.ts).

-- 1–8 distinct entry point names as TRAEFIK_ENTRYPOINTS takes them; never Traefik's API entry point.
CREATE FUNCTION traefik_sync_are_entry_points(v text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND cardinality(v) BETWEEN 1 AND 8
       AND (SELECT count(DISTINCT x) FROM unnest(v) AS x) = cardinality(v)
       AND coalesce((SELECT bool_and(x ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' AND x <> 'traefik') FROM unnest(v) AS x), false)
  $$;

ALTER TABLE domain_configs
  ADD COLUMN entry_points text[] NULL
    CONSTRAINT domain_configs_entry_points_format CHECK (entry_points IS NULL OR traefik_sync_are_entry_points(entry_points)),
  -- With TLS, `web` gets the http→https redirect; TLS routers on it would answer https on the http port.
  ADD CONSTRAINT domain_configs_entry_points_tls CHECK (NOT ssl_enabled OR entry_points IS NULL OR NOT 'web' = ANY (entry_points));

ALTER TABLE route_configs
  ADD COLUMN entry_points text[] NULL
    CONSTRAINT route_configs_entry_points_format CHECK (entry_points IS NULL OR traefik_sync_are_entry_points(entry_points));
