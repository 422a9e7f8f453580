-- traefik-sync schema, version 14: backend transport per route (docs/spec-format.md "Backend
-- transport"): HTTPS upstreams checked against a CA of their own, the name checked in the
-- upstream's certificate (serverName), insecureSkipVerify (explicit; reported by apply and the
-- controller), and a client certificate for mTLS to the upstream. h2c upstreams need nothing new
-- (an h2c:// URL). Existing routes get NULL (Traefik's default transport) and render as before.
--
-- transport: {"serverName": HOST, "insecureSkipVerify": true|false, "ca": PEM certificate(s),
--             "clientCert": PEM certificate}. The client certificate's private key is not in it:
-- it is route_configs.key_pem, named like certificates.key_pem so that the audit trigger
-- (sql/002_triggers.sql) strips it from every audit row, and history and diffs never show it.
-- The controller writes it to a 0600 file under ssl/keys/ (never served by the file API).

-- PEM certificate text (one or more CERTIFICATE blocks) without any private key or "{{".
CREATE FUNCTION traefik_sync_is_cert_pem(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND length(v) <= 65536 AND v ~ '^\s*-----BEGIN CERTIFICATE-----'
       AND position('{{' in v) = 0 AND position('}}' in v) = 0 AND NOT traefik_sync_has_private_key(v)
  $$;

CREATE FUNCTION traefik_sync_transport_valid(v jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(v) = 'object'
       AND v <> '{}'::jsonb
       AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(v) k WHERE k NOT IN ('serverName', 'insecureSkipVerify', 'ca', 'clientCert'))
       AND (NOT v ? 'serverName' OR (jsonb_typeof(v->'serverName') = 'string' AND traefik_sync_is_hostname(v->>'serverName')))
       AND (NOT v ? 'insecureSkipVerify' OR jsonb_typeof(v->'insecureSkipVerify') = 'boolean')
       AND (NOT v ? 'ca' OR (jsonb_typeof(v->'ca') = 'string' AND traefik_sync_is_cert_pem(v->>'ca')))
       AND (NOT v ? 'clientCert' OR (jsonb_typeof(v->'clientCert') = 'string' AND traefik_sync_is_cert_pem(v->>'clientCert')))
       -- A CA is only read when the upstream's certificate is verified.
       AND NOT (v ? 'ca' AND coalesce((v->>'insecureSkipVerify')::boolean, false))
  $$;

ALTER TABLE route_configs
  ADD COLUMN transport jsonb NULL
    CONSTRAINT route_configs_transport_format CHECK (transport IS NULL OR traefik_sync_transport_valid(transport)),
  ADD COLUMN key_pem text NULL
    CONSTRAINT route_configs_key_pem_format CHECK (
      key_pem IS NULL OR (length(key_pem) <= 65536 AND key_pem ~ '^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----' AND position('{{' in key_pem) = 0)),
  -- A client certificate comes with its key, and a key only with a client certificate.
  ADD CONSTRAINT route_configs_client_cert_key CHECK ((key_pem IS NULL) = (transport IS NULL OR NOT transport ? 'clientCert'));
