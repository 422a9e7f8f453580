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

-- The last move of each project: from which shard to which, and when. The old shard's sidecars
-- keep its files until every live sidecar of the new shard has written it (shard_handoff_writes)
-- and SHARD_DRAIN has passed, or until SHARD_HANDOFF_TIMEOUT after moved_at.
CREATE TABLE shard_handoffs (
  project_id  uuid PRIMARY KEY,
  from_shard  text NOT NULL,
  to_shard    text NOT NULL,
  moved_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX shard_handoffs_from ON shard_handoffs (from_shard);

-- A sidecar of the new shard wrote the moved project to its volume.
CREATE TABLE shard_handoff_writes (
  project_id  uuid NOT NULL,
  replica_id  text NOT NULL,
  written_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (project_id, replica_id)
);

-- The sidecars of each shard, by their session connection (the one that LISTENs): a sidecar is
-- live while that backend is (pg_stat_activity, same pid and start time).
CREATE TABLE shard_members (
  replica_id     text PRIMARY KEY,
  shard          text NOT NULL,
  session_pid    integer NOT NULL,
  session_start  timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shard_members_shard ON shard_members (shard);

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

-- A move starts a handoff (a newer move replaces an unfinished one; writes before it no longer count).
CREATE FUNCTION traefik_sync_shard_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO shard_handoffs AS h (project_id, from_shard, to_shard, moved_at)
  VALUES (NEW.id, OLD.shard, NEW.shard, clock_timestamp())
  ON CONFLICT (project_id) DO UPDATE
    SET from_shard = excluded.from_shard, to_shard = excluded.to_shard, moved_at = excluded.moved_at;
  RETURN NULL;
END $$;
CREATE TRIGGER projects_shard_moved AFTER UPDATE OF shard ON projects
  FOR EACH ROW WHEN (OLD.shard IS DISTINCT FROM NEW.shard) EXECUTE FUNCTION traefik_sync_shard_moved();

-- A sidecar of the new shard has written the project: wake the old shard's sidecars.
CREATE FUNCTION traefik_sync_handoff_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('traefik_sync.' || h.from_shard, NEW.project_id::text) FROM shard_handoffs h WHERE h.project_id = NEW.project_id;
  RETURN NULL;
END $$;
CREATE TRIGGER shard_handoff_writes_notify AFTER INSERT OR UPDATE ON shard_handoff_writes
  FOR EACH ROW EXECUTE FUNCTION traefik_sync_handoff_written();
