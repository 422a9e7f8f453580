-- traefik-sync schema, version 4: three fixes found by review.

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

-- 3. A row moved to another project was audited under the new project only: the old project's
--    history missed the move, and a rollback of it wanted to re-create the row. A move is now
--    audited under both projects (same entry, each with its own project_id).
CREATE OR REPLACE FUNCTION traefik_sync_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_j jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  new_j jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  old_project uuid;
  new_project uuid;
BEGIN
  IF TG_OP = 'UPDATE' AND old_j = new_j THEN RETURN NULL; END IF;
  old_project := traefik_sync_project_of(TG_TABLE_NAME, old_j);
  new_project := traefik_sync_project_of(TG_TABLE_NAME, new_j);
  -- A route whose domain was deleted in the same statement (cascade) has no project any more:
  -- fall back to the audit trail of that domain.
  IF old_project IS NULL AND old_j IS NOT NULL AND TG_TABLE_NAME IN ('route_configs', 'certificates') THEN
    SELECT a.project_id INTO old_project FROM audit_log a
     WHERE a.table_name = 'domain_configs' AND a.row_id = (old_j->>'domain_config_id')::uuid
     ORDER BY a.id DESC LIMIT 1;
  END IF;
  INSERT INTO audit_log (actor, table_name, op, row_id, project_id, old_row, new_row)
  VALUES (traefik_sync_actor(), TG_TABLE_NAME, TG_OP, coalesce((new_j->>'id')::uuid, (old_j->>'id')::uuid),
          coalesce(new_project, old_project),
          old_j - 'key_pem', new_j - 'key_pem');
  IF TG_OP = 'UPDATE' AND old_project IS NOT NULL AND new_project IS NOT NULL AND old_project <> new_project THEN
    INSERT INTO audit_log (actor, table_name, op, row_id, project_id, old_row, new_row)
    VALUES (traefik_sync_actor(), TG_TABLE_NAME, TG_OP, (new_j->>'id')::uuid, old_project,
            old_j - 'key_pem', new_j - 'key_pem');
  END IF;
  PERFORM traefik_sync_touch(old_project);
  IF new_project IS DISTINCT FROM old_project THEN PERFORM traefik_sync_touch(new_project); END IF;
  RETURN NULL;
END $$;
