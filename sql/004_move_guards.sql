-- traefik-sync schema, version 4: two fixes found by review.

-- 1. A project's version could go backwards. nextval() in VALUES ran before the row lock: a
--    writer that took a number and then waited for another transaction's lock on the project's
--    version row wrote its older number over the newer one, and a controller catching up on a
--    lost NOTIFY ("version moved?") skipped the change. The number is now taken under the lock.
CREATE OR REPLACE FUNCTION traefik_sync_touch(p_project uuid) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF p_project IS NULL THEN RETURN; END IF;
  -- deleted is a fact about the project row, not about the change: a cascaded child row's
  -- trigger (fired after the project's own) must not clear the tombstone.
  INSERT INTO project_versions AS pv (project_id, version, deleted, changed_at)
  VALUES (p_project, nextval('traefik_sync_change_seq'),
          NOT EXISTS (SELECT 1 FROM projects WHERE id = p_project), clock_timestamp())
  ON CONFLICT (project_id) DO UPDATE
    SET version = nextval('traefik_sync_change_seq'), deleted = excluded.deleted, changed_at = excluded.changed_at;
  PERFORM pg_notify('traefik_sync', p_project::text);
END $$;

-- 2. A route's service must belong to its domain's project (route_configs_same_project), but
--    moving the domain or the service to another project bypassed that check and left a route
--    across projects, which the renderer then refuses. Checked at commit, so a domain and its
--    services can still move together in one transaction.
CREATE FUNCTION traefik_sync_check_owner_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'domain_configs' THEN
    PERFORM 1 FROM route_configs r JOIN services s ON s.id = r.service_id
      WHERE r.domain_config_id = NEW.id AND s.project_id <> NEW.project_id;
  ELSE
    PERFORM 1 FROM route_configs r JOIN domain_configs d ON d.id = r.domain_config_id
      WHERE r.service_id = NEW.id AND d.project_id <> NEW.project_id;
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'route_configs.service_id: moving % % to another project leaves a route whose service belongs to another project than its domain',
      TG_TABLE_NAME, NEW.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER domain_configs_move_check AFTER UPDATE OF project_id ON domain_configs
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id)
  EXECUTE FUNCTION traefik_sync_check_owner_move();

CREATE CONSTRAINT TRIGGER services_move_check AFTER UPDATE OF project_id ON services
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id)
  EXECUTE FUNCTION traefik_sync_check_owner_move();
