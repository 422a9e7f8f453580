/**
 * Metric names are an API (docs/contract.md §6): every `traefik_sync_*` name the alert rules and the
 * Grafana dashboard use must be one of the names docs/contract.md §6 defines, with the suffixes its
 * type allows (histograms: _bucket, _sum, _count). The list below is copied from docs/contract.md §6
 * on purpose: changing it means changing the contract.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir, readYaml } from './helpers.js';

/** docs/contract.md §6 and §8, verbatim. */
const SPEC_METRICS: Readonly<Record<string, 'counter' | 'gauge' | 'histogram'>> = {
  traefik_sync_reconcile_total: 'counter',
  traefik_sync_reconcile_duration_seconds: 'histogram',
  traefik_sync_files_written_total: 'counter',
  traefik_sync_drift_files: 'gauge',
  traefik_sync_drift_detected_total: 'counter',
  traefik_sync_projects_failed: 'gauge',
  traefik_sync_last_success_timestamp_seconds: 'gauge',
  traefik_sync_change_apply_seconds: 'histogram',
  traefik_sync_db_up: 'gauge',
  traefik_sync_listen_connected: 'gauge',
  traefik_sync_queue_depth: 'gauge',
  traefik_sync_is_leader: 'gauge',
  traefik_sync_delete_guard_blocked_total: 'counter',
  traefik_sync_certificate_not_after_timestamp_seconds: 'gauge',
  traefik_sync_volume_free_bytes: 'gauge',
  traefik_sync_db_query_duration_seconds: 'histogram',
  traefik_sync_traefik_restart_needed: 'gauge',
  // §8 (Traefik in the loop).
  traefik_sync_traefik_up: 'gauge',
  traefik_sync_change_live_seconds: 'histogram',
  traefik_sync_traefik_config_lag_seconds: 'gauge',
  traefik_sync_traefik_errors: 'gauge',
  traefik_sync_unowned_files: 'gauge',
};

/** A `traefik_sync_*` series name used in a query → the docs/contract.md metric it belongs to, or null. */
function specMetricOf(series: string): string | null {
  if (SPEC_METRICS[series]) return SPEC_METRICS[series] === 'histogram' ? null : series;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (m && SPEC_METRICS[m[1]!] === 'histogram') return m[1]!;
  return null;
}

function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\btraefik_sync_[a-z0-9_]+/g)].map((m) => m[0]);
}

const rules = readYaml<{ groups: Array<{ rules: Array<{ expr: string }> }> }>(path.join(deployDir, 'prometheus/traefik-sync-rules.yml'));
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));

const dashboard = JSON.parse(readFileSync(path.join(deployDir, 'grafana/traefik-sync-dashboard.json'), 'utf8'));
const dashboardExprs: string[] = [
  ...dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr as string)),
  ...dashboard.templating.list.map((v: any) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')) as string),
];

describe('metric names (docs/contract.md §6)', () => {
  it.each([
    ['alert rules', ruleExprs],
    ['dashboard', dashboardExprs],
  ] as const)('every traefik_sync_* series in the %s is a docs/contract.md §6 metric', (_where, exprs) => {
    const used = exprs.flatMap(namesIn);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(specMetricOf(name), name).not.toBeNull();
  });

  it('the dashboard shows every docs/contract.md §6 metric', () => {
    const shown = new Set(dashboardExprs.flatMap(namesIn).map(specMetricOf));
    expect([...Object.keys(SPEC_METRICS)].filter((m) => !shown.has(m))).toEqual([]);
  });

  it('would reject a name outside the contract', () => {
    expect(specMetricOf('traefik_sync_reconcile_errors_total')).toBeNull();
    expect(specMetricOf('traefik_sync_db_up_bucket')).toBeNull();
    expect(specMetricOf('traefik_sync_change_apply_seconds')).toBeNull(); // a histogram is queried by its series
    expect(specMetricOf('traefik_sync_change_apply_seconds_bucket')).toBe('traefik_sync_change_apply_seconds');
  });
});
