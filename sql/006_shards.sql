-- traefik-sync schema, version 6: shards. A project belongs to one shard; a sidecar started with
-- SHARD renders only the projects of its shard (one Traefik deployment per shard). Moving a
-- project to another shard hands its files over: the new shard's sidecars write them, record
-- that in shard_handoffs, and only then (after SHARD_DRAIN) do the old shard's sidecars remove
-- theirs. See README "Shards".

-- A shard name is a DNS label of at most 50 characters: it becomes part of a NOTIFY channel name
-- ('traefik_sync.' || shard), and those are at most 63.
ALTER TABLE projects ADD COLUMN shard text NOT NULL DEFAULT 'default'
  CONSTRAINT projects_shard_format CHECK (shard ~ '^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$');
CREATE INDEX projects_shard ON projects (shard);

-- The shard of each version row: the project's, kept by the tombstone after a delete (so the
-- shard's sidecars see the deletion). Set by a trigger, whatever the statement that bumps it.
ALTER TABLE project_versions ADD COLUMN shard text NOT NULL DEFAULT 'default';
UPDATE project_versions v SET shard = p.shard FROM projects p WHERE p.id = v.project_id AND v.shard <> p.shard;
CREATE INDEX project_versions_shard ON project_versions (shard);

-- The shard a replica serves (null: every shard), next to its status.
ALTER TABLE sync_replicas ADD COLUMN shard text NULL;

-- The last move of each project: from which shard to which, when, and when a sidecar of the new
-- shard had written its files (written_at; the old shard's sidecars remove theirs SHARD_DRAIN
-- later, or SHARD_HANDOFF_TIMEOUT after moved_at when no sidecar of the new shard wrote them).
CREATE TABLE shard_handoffs (
  project_id  uuid PRIMARY KEY,
  from_shard  text NOT NULL,
  to_shard    text NOT NULL,
  moved_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  written_at  timestamptz NULL,
  written_by  text NULL
);
CREATE INDEX shard_handoffs_from ON shard_handoffs (from_shard);

CREATE FUNCTION traefik_sync_version_shard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.shard := coalesce((SELECT shard FROM projects WHERE id = NEW.project_id),
                        CASE WHEN TG_OP = 'UPDATE' THEN OLD.shard END, 'default');
  RETURN NEW;
END $$;
CREATE TRIGGER project_versions_shard BEFORE INSERT OR UPDATE ON project_versions
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_version_shard();

-- Wake the shard's sidecars (channel 'traefik_sync.<shard>'; 'traefik_sync' itself still carries
-- every change, for sidecars of all shards). A project that changed shard wakes both.
CREATE FUNCTION traefik_sync_notify_shard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('traefik_sync.' || NEW.shard, NEW.project_id::text);
  IF TG_OP = 'UPDATE' AND OLD.shard IS DISTINCT FROM NEW.shard THEN
    PERFORM pg_notify('traefik_sync.' || OLD.shard, NEW.project_id::text);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER project_versions_notify_shard AFTER INSERT OR UPDATE ON project_versions
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_notify_shard();

-- A move starts a handoff (a newer move replaces an unfinished one).
CREATE FUNCTION traefik_sync_shard_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO shard_handoffs AS h (project_id, from_shard, to_shard, moved_at)
  VALUES (NEW.id, OLD.shard, NEW.shard, clock_timestamp())
  ON CONFLICT (project_id) DO UPDATE
    SET from_shard = excluded.from_shard, to_shard = excluded.to_shard, moved_at = excluded.moved_at,
        written_at = NULL, written_by = NULL;
  RETURN NULL;
END $$;
CREATE TRIGGER projects_shard_moved AFTER UPDATE OF shard ON projects
  FOR EACH ROW WHEN (OLD.shard IS DISTINCT FROM NEW.shard) EXECUTE FUNCTION traefik_sync_shard_moved();

-- The new shard has written the project: wake the old shard's sidecars (they remove theirs).
CREATE FUNCTION traefik_sync_handoff_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('traefik_sync.' || NEW.from_shard, NEW.project_id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER shard_handoffs_written AFTER UPDATE OF written_at ON shard_handoffs
  FOR EACH ROW WHEN (OLD.written_at IS NULL AND NEW.written_at IS NOT NULL)
  EXECUTE FUNCTION traefik_sync_handoff_written();
