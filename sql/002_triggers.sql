-- traefik-sync schema, version 2: triggers for cross-row rules, audit, and change notification.

-- The actor of a change: the session setting traefik_sync.actor, else the database user.
CREATE FUNCTION traefik_sync_actor() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(nullif(current_setting('traefik_sync.actor', true), ''), current_user::text)
$$;

-- Mark a project changed: bump its version and wake the controllers (delivered at commit;
-- identical notifications in one transaction collapse into one).
CREATE FUNCTION traefik_sync_touch(p_project uuid) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF p_project IS NULL THEN RETURN; END IF;
  -- deleted is a fact about the project row, not about the change: a cascaded child row's
  -- trigger (fired after the project's own) must not clear the tombstone.
  INSERT INTO project_versions AS pv (project_id, version, deleted, changed_at)
  VALUES (p_project, nextval('traefik_sync_change_seq'),
          NOT EXISTS (SELECT 1 FROM projects WHERE id = p_project), clock_timestamp())
  ON CONFLICT (project_id) DO UPDATE
    SET version = excluded.version, deleted = excluded.deleted, changed_at = excluded.changed_at;
  PERFORM pg_notify('traefik_sync', p_project::text);
END $$;

-- The project a row belongs to (routes and certificates through their domain).
CREATE FUNCTION traefik_sync_project_of(p_table text, p_row jsonb) RETURNS uuid
  LANGUAGE plpgsql STABLE AS $$
DECLARE result uuid;
BEGIN
  IF p_row IS NULL THEN RETURN NULL; END IF;
  CASE p_table
    WHEN 'projects' THEN result := (p_row->>'id')::uuid;
    WHEN 'services', 'domain_configs' THEN result := (p_row->>'project_id')::uuid;
    WHEN 'route_configs', 'certificates' THEN
      SELECT d.project_id INTO result FROM domain_configs d WHERE d.id = (p_row->>'domain_config_id')::uuid;
    ELSE result := NULL;
  END CASE;
  RETURN result;
END $$;

-- Row trigger: audit (key material stripped) + notify every project whose output changes.
CREATE FUNCTION traefik_sync_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
  PERFORM traefik_sync_touch(old_project);
  IF new_project IS DISTINCT FROM old_project THEN PERFORM traefik_sync_touch(new_project); END IF;
  RETURN NULL;
END $$;

-- TRUNCATE fires no row triggers: audit it and ask every controller for a full resync ('*').
CREATE FUNCTION traefik_sync_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_log (actor, table_name, op) VALUES (traefik_sync_actor(), TG_TABLE_NAME, 'TRUNCATE');
  UPDATE project_versions SET version = nextval('traefik_sync_change_seq'), changed_at = clock_timestamp();
  PERFORM pg_notify('traefik_sync', '*');
  RETURN NULL;
END $$;

-- Keep updated_at honest.
CREATE FUNCTION traefik_sync_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN NEW.updated_at := now(); END IF;
  RETURN NEW;
END $$;

-- A route's service must belong to the same project as its domain.
CREATE FUNCTION traefik_sync_check_route() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d_project uuid; s_project uuid;
BEGIN
  SELECT project_id INTO d_project FROM domain_configs WHERE id = NEW.domain_config_id;
  SELECT project_id INTO s_project FROM services WHERE id = NEW.service_id;
  IF d_project IS DISTINCT FROM s_project THEN
    RAISE EXCEPTION 'route_configs.service_id: service % belongs to another project than domain %',
      NEW.service_id, NEW.domain_config_id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER route_configs_same_project BEFORE INSERT OR UPDATE OF domain_config_id, service_id
  ON route_configs FOR EACH ROW EXECUTE FUNCTION traefik_sync_check_route();

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['projects', 'services', 'domain_configs', 'route_configs', 'certificates'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION traefik_sync_row_changed()', t || '_changed', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION traefik_sync_truncated()', t || '_truncated', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION traefik_sync_set_updated_at()', t || '_updated_at', t);
  END LOOP;
END $$;
