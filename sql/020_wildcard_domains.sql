-- traefik-sync schema, version 20: wildcard domains (*.example.com) and the names a certificate
-- request covers (docs/spec-format.md "Wildcard domains and DNS-01").

-- A wildcard host: "*." then a host name of at least two labels. The "*" is the whole leftmost
-- label and nowhere else (no "a.*.example.com", no "*a.example.com", no "*.com").
CREATE FUNCTION traefik_sync_is_wildcard_host(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND left(v, 2) = '*.' AND length(v) <= 253
       AND traefik_sync_is_hostname(substr(v, 3)) AND position('.' IN substr(v, 3)) > 0
  $$;

-- Every element a host name or a wildcard host.
CREATE FUNCTION traefik_sync_are_tls_names(v text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(bool_and(traefik_sync_is_hostname(x) OR traefik_sync_is_wildcard_host(x)), false)
      FROM unnest(v) AS x
  $$;

-- The domain may be a wildcard when there is no subdomain; the subdomain's leftmost label may be
-- "*"; the full domain is a host name or a wildcard host (which also keeps "*" out of the middle).
ALTER TABLE domain_configs DROP CONSTRAINT domain_configs_domain_format;
ALTER TABLE domain_configs ADD CONSTRAINT domain_configs_domain_format
  CHECK (traefik_sync_is_hostname(domain) OR (subdomain IS NULL AND traefik_sync_is_wildcard_host(domain)));
ALTER TABLE domain_configs DROP CONSTRAINT domain_configs_subdomain_format;
ALTER TABLE domain_configs ADD CONSTRAINT domain_configs_subdomain_format
  CHECK (subdomain IS NULL OR (length(subdomain) <= 200
         AND subdomain ~ '^(\*|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$'));
ALTER TABLE domain_configs DROP CONSTRAINT domain_configs_full_domain_format;
ALTER TABLE domain_configs ADD CONSTRAINT domain_configs_full_domain_format
  CHECK (traefik_sync_is_hostname(full_domain) OR traefik_sync_is_wildcard_host(full_domain));

-- More names on the domain's ACME certificate (router tls.domains[0].sans; main is full_domain).
-- One active owner per wildcard across projects: domain_configs_active_full_domain (001) covers
-- "*.example.com" like any other full domain.
ALTER TABLE domain_configs ADD COLUMN tls_sans text[] NULL
  CONSTRAINT domain_configs_tls_sans_format
  CHECK (tls_sans IS NULL OR (cardinality(tls_sans) BETWEEN 1 AND 20 AND traefik_sync_are_tls_names(tls_sans)));
