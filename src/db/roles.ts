/**
 * The database roles of docs/contract.md §9, as group roles (NOLOGIN) that logins are made
 * members of (`CREATE ROLE app LOGIN PASSWORD '…' IN ROLE traefik_sync_writer`):
 *
 * - `<prefix>_owner` owns the schema's objects and may create more: run `migrate` as a member
 *   (migrate.ts sets this role while it applies a migration, so new objects belong to it).
 * - `<prefix>_writer` — the config service, `apply`, `rollback`, `import`, `history`: reads
 *   everything; writes the desired state (projects, services, domain_configs, route_configs,
 *   certificates) and, through the triggers, appends to audit_log and bumps project_versions. It
 *   may not rewrite audit_log, nor write the sidecar's records.
 * - `<prefix>_sidecar` — `run`, `sync`, `diff`: reads the desired state; writes only its own
 *   records (traefik_configs, sync_replicas, drift_events, and the shard bookkeeping
 *   shard_handoff_writes, shard_members); reads and prunes shard_handoffs, which the writer's
 *   moves of a project to another shard fill (a trigger, sql/006_shards.sql).
 *
 * {@link rolesSql} is the SQL (idempotent: roles created when missing, grants set again), for a
 * DBA to read or run; {@link createRoles} runs it. Grants name tables, so migrate.ts applies them
 * again after every migration once the roles exist.
 */
import { sql, type Queryable } from './connect.js';

/** The three role names for `prefix` (default `traefik_sync`). */
export interface RoleNames {
  readonly owner: string;
  readonly writer: string;
  readonly sidecar: string;
}

/** Default prefix of the role names. */
export const DEFAULT_ROLE_PREFIX = 'traefik_sync';

/** The role names for `prefix`; throws naming it when it is not a plain SQL identifier. */
export function roleNames(prefix = DEFAULT_ROLE_PREFIX): RoleNames {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) {
    throw new Error(
      `--role-prefix: expected lower-case letters, digits and "_" (at most 41, not starting with a digit), got ${JSON.stringify(prefix)}`,
    );
  }
  return { owner: `${prefix}_owner`, writer: `${prefix}_writer`, sidecar: `${prefix}_sidecar` };
}

const DESIRED = 'projects, services, domain_configs, route_configs, certificates, project_middlewares, l4_routes';
const RECORDS = 'traefik_configs, sync_replicas, drift_events, shard_handoff_writes, shard_members';
const ALL_TABLES = `${DESIRED}, audit_log, project_versions, shard_handoffs, ${RECORDS}, schema_migrations`;

/** The SQL that creates the roles (when missing) and sets their ownership and grants. */
export function rolesSql(r: RoleNames): string {
  const create = (role: string) =>
    `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} NOLOGIN; END IF;`;
  return `-- traefik-sync database roles (docs: README "Database roles").
DO $roles$
BEGIN
${create(r.owner)}
${create(r.writer)}
${create(r.sidecar)}
  -- Whoever runs this may hand objects to the owner role (a superuser, or the database owner with CREATEROLE).
  IF NOT pg_has_role(current_user, '${r.owner}', 'MEMBER') THEN EXECUTE 'GRANT ${r.owner} TO ' || quote_ident(current_user); END IF;
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO ${r.owner}, ${r.writer}, ${r.sidecar}', current_database());
  EXECUTE format('GRANT CREATE ON DATABASE %I TO ${r.owner}', current_database());
END
$roles$;

-- The owner owns every object of the schema and may create more.
GRANT USAGE, CREATE ON SCHEMA public TO ${r.owner};
GRANT USAGE ON SCHEMA public TO ${r.writer}, ${r.sidecar};
DO $owner$
DECLARE o record;
BEGIN
  FOR o IN SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v') AND pg_get_userbyid(c.relowner) <> '${r.owner}'
              AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))) LOOP
    EXECUTE format('ALTER %s %I OWNER TO ${r.owner}', CASE o.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' ELSE 'TABLE' END, o.relname);
  END LOOP;
  FOR o IN SELECT p.oid::regprocedure AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proname LIKE 'traefik\\_sync\\_%' AND pg_get_userbyid(p.proowner) <> '${r.owner}' LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO ${r.owner}', o.f);
  END LOOP;
END
$owner$;

${grantsSql(r)}`;
}

/**
 * The table privileges of each role (the part the owner of the objects can set again after a
 * migration; see the module comment).
 */
export function grantsSql(r: RoleNames): string {
  return `-- Nobody else by default; then each role what its commands need.
REVOKE ALL ON ${ALL_TABLES} FROM PUBLIC, ${r.writer}, ${r.sidecar};
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, ${r.writer}, ${r.sidecar};

-- writer: the config service, apply, rollback, import, history.
GRANT SELECT ON ${ALL_TABLES} TO ${r.writer};
GRANT INSERT, UPDATE, DELETE ON ${DESIRED} TO ${r.writer};
GRANT INSERT ON audit_log TO ${r.writer};
GRANT INSERT, UPDATE ON project_versions TO ${r.writer};
GRANT INSERT, UPDATE ON shard_handoffs TO ${r.writer};
GRANT USAGE ON SEQUENCE audit_log_id_seq, traefik_sync_change_seq TO ${r.writer};

-- sidecar: run, sync, diff.
GRANT SELECT ON ${DESIRED}, project_versions, schema_migrations TO ${r.sidecar};
GRANT SELECT, INSERT, UPDATE, DELETE ON ${RECORDS} TO ${r.sidecar};
GRANT SELECT, DELETE ON shard_handoffs TO ${r.sidecar};
GRANT USAGE ON SEQUENCE drift_events_id_seq TO ${r.sidecar};`;
}

/** Create the roles (when missing) and set their ownership and grants, in one transaction. */
export async function createRoles(db: Queryable, options: { prefix?: string } = {}): Promise<RoleNames> {
  const names = roleNames(options.prefix);
  await db.query(sql.__dangerous__rawValue(rolesSql(names)));
  return names;
}

/** Whether the roles for `prefix` exist (then migrations run as the owner and re-apply the grants). */
export async function rolesExist(db: Queryable, prefix = DEFAULT_ROLE_PREFIX): Promise<boolean> {
  const names = roleNames(prefix);
  const rows = await db.query(
    sql`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ANY(${[names.owner, names.writer, names.sidecar]})`,
  );
  return rows[0]!.n === 3;
}
