/** Bounded names for traefik_sync_db_query_duration_seconds{query}, from a query's SQL text. */
export const QUERY_NAMES = [
  'fingerprint',
  'load_projects',
  'load_recorded',
  'record_files',
  'resolvers',
  'tombstones',
  'replica_status',
  'drift_events',
  'certificates',
  'other',
] as const;

export type QueryName = (typeof QUERY_NAMES)[number];

const RULES: ReadonlyArray<[RegExp, QueryName]> = [
  [/count\(\*\) AS n, coalesce\(sum\((v\.)?version\)/, 'fingerprint'],
  [/FROM project_versions WHERE deleted/, 'tombstones'],
  [/(INSERT INTO|DELETE FROM) traefik_configs/, 'record_files'],
  [/FROM traefik_configs/, 'load_recorded'],
  [/DISTINCT ssl_provider/, 'resolvers'],
  [/sync_replicas/, 'replica_status'],
  [/drift_events/, 'drift_events'],
  [/SELECT d\.full_domain, c\.not_after FROM/, 'certificates'],
  [/FROM (projects p|services|domain_configs d|route_configs r)\b/, 'load_projects'],
];

/** The metric label for a query. */
export function queryName(text: string): QueryName {
  for (const [re, name] of RULES) if (re.test(text)) return name;
  return 'other';
}
