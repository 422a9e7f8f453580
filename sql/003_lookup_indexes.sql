-- traefik-sync schema, version 3: indexes for lookups that scanned whole tables at scale.

-- Routes of a domain: loading one project's state, and the ON DELETE CASCADE from domain_configs.
-- (route_configs_active_rule covers active routes only, so it cannot serve these.)
CREATE INDEX route_configs_domain ON route_configs (domain_config_id);

-- The audit trail of a domain, read by the change trigger when a domain and its routes are
-- deleted in one statement (see traefik_sync_row_changed). Partial: only domain rows pay for it.
CREATE INDEX audit_log_domain_row ON audit_log (row_id, id) WHERE table_name = 'domain_configs';
