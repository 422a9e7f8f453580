-- traefik-sync schema, version 1: desired state, generated files, audit log, change notification.
-- Applied by `traefik-sync migrate` (once, in a transaction, under an advisory lock).

-- Hostname: lower-case ASCII labels (IDNs in punycode), at most 253 characters, no wildcard.
CREATE FUNCTION traefik_sync_is_hostname(v text) RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT v IS NOT NULL AND length(v) <= 253
       AND v ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'
  $$;

CREATE TABLE projects (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE
              CONSTRAINT projects_name_format CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE services (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        text NOT NULL
              CONSTRAINT services_name_format CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  host        text NULL
              CONSTRAINT services_host_format CHECK (host IS NULL OR traefik_sync_is_hostname(host)),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);

CREATE TABLE domain_configs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id    uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  domain        varchar NOT NULL
                CONSTRAINT domain_configs_domain_format CHECK (traefik_sync_is_hostname(domain)),
  subdomain     varchar NULL
                CONSTRAINT domain_configs_subdomain_format
                CHECK (subdomain IS NULL OR (length(subdomain) <= 200 AND subdomain ~ '^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')),
  full_domain   varchar NOT NULL
                CONSTRAINT domain_configs_full_domain_format CHECK (traefik_sync_is_hostname(full_domain)),
  ssl_enabled   boolean NOT NULL DEFAULT true,
  ssl_provider  varchar NULL
                CONSTRAINT domain_configs_ssl_provider_format CHECK (ssl_provider IS NULL OR ssl_provider ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT domain_configs_full_domain_matches
    CHECK (full_domain = CASE WHEN subdomain IS NULL THEN domain ELSE subdomain || '.' || domain END)
);
-- One active full_domain across all projects: Traefik would keep the first router and drop the other.
CREATE UNIQUE INDEX domain_configs_active_full_domain ON domain_configs (full_domain) WHERE is_active;
CREATE INDEX domain_configs_project ON domain_configs (project_id);

CREATE TABLE route_configs (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  domain_config_id  uuid NOT NULL REFERENCES domain_configs(id) ON DELETE CASCADE,
  service_id        uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
  path_rule         varchar NOT NULL DEFAULT '/'
                    -- starts with '/', printable ASCII without space, quotes, backtick, backslash or braces
                    CONSTRAINT route_configs_path_rule_format CHECK (length(path_rule) <= 1024 AND path_rule ~ '^/[!#-&(-[\]-_a-z|~]*$'),
  priority          integer NOT NULL DEFAULT 1
                    CONSTRAINT route_configs_priority_range CHECK (priority BETWEEN 0 AND 1000000),
  middleware        jsonb NULL
                    CONSTRAINT route_configs_middleware_array CHECK (middleware IS NULL OR jsonb_typeof(middleware) = 'array'),
  target_port       integer NOT NULL
                    CONSTRAINT route_configs_target_port_range CHECK (target_port BETWEEN 1 AND 65535),
  target_url        varchar NULL
                    CONSTRAINT route_configs_target_url_format CHECK (target_url IS NULL OR (length(target_url) <= 2048 AND target_url ~ '^(https?|h2c)://[!#-&(-[\]-_a-z|~]+$')),
  health_check      jsonb NULL
                    CONSTRAINT route_configs_health_check_object CHECK (health_check IS NULL OR jsonb_typeof(health_check) = 'object'),
  is_active         boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Two active routes with the same host and path would be two routers with the same rule.
CREATE UNIQUE INDEX route_configs_active_rule ON route_configs (domain_config_id, path_rule) WHERE is_active;
CREATE INDEX route_configs_service ON route_configs (service_id);

CREATE TABLE certificates (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  domain_config_id  uuid NOT NULL UNIQUE REFERENCES domain_configs(id) ON DELETE CASCADE,
  cert_pem          text NOT NULL
                    CONSTRAINT certificates_cert_pem_format CHECK (cert_pem ~ '^\s*-----BEGIN CERTIFICATE-----' AND position('{{' in cert_pem) = 0),
  key_pem           text NOT NULL
                    CONSTRAINT certificates_key_pem_format CHECK (key_pem ~ '^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----' AND position('{{' in key_pem) = 0),
  not_after         timestamptz NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per generated file. project_id is null for the global static config. No foreign key:
-- the rows of a deleted project stay until the controller has removed its files.
CREATE TABLE traefik_configs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NULL,
  config_type     varchar NOT NULL
                  CONSTRAINT traefik_configs_config_type CHECK (config_type IN ('static', 'dynamic', 'service', 'certificate', 'key')),
  file_path       varchar NOT NULL UNIQUE,
  content         text NOT NULL,
  checksum        varchar NOT NULL CONSTRAINT traefik_configs_checksum_format CHECK (checksum ~ '^sha256:[0-9a-f]{64}$'),
  last_synced_at  timestamptz NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX traefik_configs_project ON traefik_configs (project_id);

-- Change tracking: every change that alters a project's output bumps its version (tombstone kept on
-- delete), so an idle controller can tell "nothing changed" with one small query.
CREATE SEQUENCE traefik_sync_change_seq;
CREATE TABLE project_versions (
  project_id  uuid PRIMARY KEY,
  version     bigint NOT NULL,
  deleted     boolean NOT NULL DEFAULT false,
  changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Audit log of every change to desired state. Key material is never copied here.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor       text NOT NULL,
  table_name  text NOT NULL,
  op          text NOT NULL CHECK (op IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
  row_id      uuid NULL,
  project_id  uuid NULL,
  old_row     jsonb NULL,
  new_row     jsonb NULL
);
CREATE INDEX audit_log_project_at ON audit_log (project_id, at);

-- Per-replica status and drift records (written by each controller).
CREATE TABLE sync_replicas (
  replica_id       text PRIMARY KEY,
  is_leader        boolean NOT NULL DEFAULT false,
  last_sync_at     timestamptz NULL,
  last_success_at  timestamptz NULL,
  last_error       text NULL,
  drift_count      integer NOT NULL DEFAULT 0,
  projects_failed  integer NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE drift_events (
  id           bigserial PRIMARY KEY,
  replica_id   text NOT NULL,
  project_id   uuid NULL,
  file_path    text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('modified', 'missing', 'unexpected')),
  detected_at  timestamptz NOT NULL DEFAULT now(),
  repaired     boolean NOT NULL DEFAULT false,
  repaired_at  timestamptz NULL
);
CREATE INDEX drift_events_replica_at ON drift_events (replica_id, detected_at);
