-- traefik-sync schema, version 11: match types beyond the path prefix (docs/spec-format.md
-- "Matching requests"). route_configs.path_match: 'prefix' (PathPrefix, as before), 'exact'
-- (Path) or 'regex' (PathRegexp: path_rule then holds a Go regular expression); headers: an
-- object of header name → exact value (Header); methods: a list of HTTP methods (Method).
-- Every value is rendered inside backticks, so none may hold one. Existing routes get 'prefix'
-- and no headers or methods, and render exactly as before. Two active routes of a domain can
-- never have the same rule: the unique index covers the whole of it.

-- A path regular expression: printable ASCII without backticks (they would end Traefik's
-- quoting) and without "{{" / "}}" (Go templates), ≤ 1024. That Go compiles it is checked by
-- the config service and the renderer (docs/spec-format.md).
CREATE FUNCTION traefik_sync_is_path_regex(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND length(v) BETWEEN 1 AND 1024 AND v ~ '^[ -_a-~]+$'
       AND position('{{' IN v) = 0 AND position('}}' IN v) = 0
  $$;

-- headers: 1–8 entries; a name is an HTTP token without backticks (≤ 64; not Host, which is the
-- domain's), names unique ignoring case; a value is 1–256 printable ASCII characters without
-- backticks, "{{" or "}}", and without white space at either end.
CREATE FUNCTION traefik_sync_headers_valid(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND (SELECT count(*) FROM jsonb_object_keys(v)) BETWEEN 1 AND 8
       AND (SELECT count(DISTINCT lower(k)) FROM jsonb_object_keys(v) k) = (SELECT count(*) FROM jsonb_object_keys(v))
       AND NOT EXISTS (
         SELECT 1 FROM jsonb_each(v) e
          WHERE e.key !~ '^[!#-''*+.0-9A-Z^_a-z|~-]{1,64}$' OR lower(e.key) = 'host'
             OR jsonb_typeof(e.value) <> 'string'
             OR (e.value #>> '{}') !~ '^[!-_a-~]([ -_a-~]{0,254}[!-_a-~])?$'
             OR position('{{' IN e.value #>> '{}') > 0 OR position('}}' IN e.value #>> '{}') > 0)
  $$;

-- methods: 1–9 distinct HTTP methods.
CREATE FUNCTION traefik_sync_methods_valid(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'array' AND jsonb_array_length(v) BETWEEN 1 AND 9
       AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) m
                        WHERE jsonb_typeof(m) <> 'string'
                           OR (m #>> '{}') NOT IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE'))
       AND (SELECT count(DISTINCT m) FROM jsonb_array_elements(v) m) = jsonb_array_length(v)
  $$;

-- The headers and methods of a route as one text, the same whatever the order or the case of
-- header names (Traefik compares names ignoring case): part of the unique rule below.
CREATE FUNCTION traefik_sync_matcher_key(headers jsonb, methods jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT string_agg(lower(e.key) || ':' || (e.value #>> '{}'), E'\n' ORDER BY lower(e.key))
                       FROM jsonb_each(CASE WHEN jsonb_typeof(headers) = 'object' THEN headers ELSE '{}' END) e), '')
        || E'\t'
        || coalesce((SELECT string_agg(m #>> '{}', ',' ORDER BY m #>> '{}')
                       FROM jsonb_array_elements(CASE WHEN jsonb_typeof(methods) = 'array' THEN methods ELSE '[]' END) m), '')
  $$;

ALTER TABLE route_configs
  ADD COLUMN path_match text NOT NULL DEFAULT 'prefix'
    CONSTRAINT route_configs_path_match_values CHECK (path_match IN ('prefix', 'exact', 'regex')),
  ADD COLUMN headers jsonb NULL
    CONSTRAINT route_configs_headers_format CHECK (headers IS NULL OR traefik_sync_headers_valid(headers)),
  ADD COLUMN methods jsonb NULL
    CONSTRAINT route_configs_methods_format CHECK (methods IS NULL OR traefik_sync_methods_valid(methods)),
  DROP CONSTRAINT route_configs_path_rule_format,
  -- A path (prefix or exact): starts with '/', printable ASCII without space, quotes, backtick,
  -- backslash or braces, as before; a regex: see traefik_sync_is_path_regex.
  ADD CONSTRAINT route_configs_path_rule_format CHECK (
    CASE WHEN path_match = 'regex' THEN traefik_sync_is_path_regex(path_rule)
         ELSE length(path_rule) <= 1024 AND path_rule ~ '^/[!#-&(-[\]-_a-z|~]*$' END);

-- Two active routes of a domain with the same rule would be two routers Traefik orders at random.
DROP INDEX route_configs_active_rule;
CREATE UNIQUE INDEX route_configs_active_rule
  ON route_configs (domain_config_id, path_rule, path_match, traefik_sync_matcher_key(headers, methods)) WHERE is_active;
