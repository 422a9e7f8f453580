-- traefik-sync schema, version 15: TLS options per domain and the default certificate
-- (docs/spec-format.md "TLS options").
--
-- tls_options: {"minVersion": V, "maxVersion": V, "cipherSuites": [names], "sniStrict": bool,
--   "clientAuth": {"ca": PEM certificate(s), "mode": Go's ClientAuthType}} with V one of
--   Traefik's VersionTLS10–13 and the cipher suites Traefik knows (pkg/tls/cipher.go). Traefik
--   silently ignores a version it does not know, so only these are stored. Rendered as one TLS
--   option per domain, which every TLS router of that host uses: a host never gets two options
--   (Traefik would fall back to the default one). Not on a wildcard domain (its HostRegexp names
--   no host for Traefik to pick an option by).
--
-- default_certificate: the domain's custom certificate is Traefik's default certificate
-- (tls.stores.default.defaultCertificate, served to clients whose SNI matches no certificate).
-- It is global, so at most one active domain of all projects holds it.

CREATE FUNCTION traefik_sync_tls_options_valid(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND v <> '{}'::jsonb
       AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(v) k WHERE k NOT IN ('minVersion', 'maxVersion', 'cipherSuites', 'sniStrict', 'clientAuth'))
       AND (NOT v ? 'minVersion' OR v->>'minVersion' IN ('VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'))
       AND (NOT v ? 'maxVersion' OR v->>'maxVersion' IN ('VersionTLS10', 'VersionTLS11', 'VersionTLS12', 'VersionTLS13'))
       AND (NOT (v ? 'minVersion' AND v ? 'maxVersion') OR v->>'minVersion' <= v->>'maxVersion')
       AND (NOT v ? 'sniStrict' OR jsonb_typeof(v->'sniStrict') = 'boolean')
       AND (NOT v ? 'cipherSuites' OR (
             jsonb_typeof(v->'cipherSuites') = 'array' AND jsonb_array_length(v->'cipherSuites') BETWEEN 1 AND 32
             AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v->'cipherSuites') c WHERE jsonb_typeof(c) <> 'string' OR c #>> '{}' NOT IN (
               'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA',
               'TLS_RSA_WITH_AES_256_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'TLS_RSA_WITH_AES_128_GCM_SHA256',
               'TLS_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
               'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
               'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
               'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
               'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
               'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
               'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384',
               'TLS_CHACHA20_POLY1305_SHA256', 'TLS_FALLBACK_SCSV'))))
       AND (NOT v ? 'clientAuth' OR (
             jsonb_typeof(v->'clientAuth') = 'object'
             AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(v->'clientAuth') k WHERE k NOT IN ('ca', 'mode'))
             AND (NOT v->'clientAuth' ? 'ca' OR (jsonb_typeof(v #> '{clientAuth,ca}') = 'string' AND traefik_sync_is_cert_pem(v #>> '{clientAuth,ca}')))
             AND v #>> '{clientAuth,mode}' IN ('NoClientCert', 'RequestClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert')
             -- Verifying a client certificate needs the CA it is checked against.
             AND (v->'clientAuth' ? 'ca' OR v #>> '{clientAuth,mode}' NOT IN ('VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'))))
  $$;

ALTER TABLE domain_configs
  ADD COLUMN tls_options jsonb NULL
    CONSTRAINT domain_configs_tls_options_format CHECK (tls_options IS NULL OR traefik_sync_tls_options_valid(tls_options)),
  ADD COLUMN default_certificate boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT domain_configs_tls_options_ssl CHECK (tls_options IS NULL OR (ssl_enabled AND left(full_domain, 2) <> '*.')),
  ADD CONSTRAINT domain_configs_default_certificate_custom CHECK (NOT default_certificate OR (ssl_enabled AND ssl_provider = 'custom'));

-- One owner of Traefik's default certificate, across all projects.
CREATE UNIQUE INDEX domain_configs_one_default_certificate ON domain_configs ((true)) WHERE default_certificate AND is_active;
