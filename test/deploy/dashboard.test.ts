/**
 * The Grafana dashboard: importable and provisionable JSON (schemaVersion 39, every query on
 * the `${DS_PROMETHEUS}` data-source variable that the dashboard itself defines), unique
 * panel ids, panels that do not overlap, and the panels issue 7 asks for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployDir } from './helpers.js';

const dashboard = JSON.parse(readFileSync(path.join(deployDir, 'grafana/traefik-sync-dashboard.json'), 'utf8'));
const panels: any[] = dashboard.panels;
const queryPanels = panels.filter((p) => p.type !== 'row');
const allExprs = queryPanels.flatMap((p) => p.targets.map((t: any) => t.expr as string)).join('\n');

describe('Grafana dashboard', () => {
  it('has a stable uid, a title and schemaVersion 39', () => {
    expect(dashboard.uid).toBe('traefik-sync');
    expect(dashboard.title).toBe('traefik-sync');
    expect(dashboard.schemaVersion).toBe(39);
  });

  it('defines the DS_PROMETHEUS data-source variable, so it works imported and provisioned', () => {
    const ds = dashboard.templating.list.find((v: any) => v.name === 'DS_PROMETHEUS');
    expect(ds).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(dashboard.__inputs).toBeUndefined();
  });

  it('queries only through ${DS_PROMETHEUS}', () => {
    const sources = [
      ...queryPanels.flatMap((p) => [p.datasource, ...p.targets.map((t: any) => t.datasource)]),
      ...dashboard.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.datasource),
    ];
    for (const ds of sources) expect(ds).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
  });

  it('has unique panel ids, unique refIds per panel and an expression on every target', () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      const refIds = p.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size, p.title).toBe(refIds.length);
      for (const t of p.targets) expect(t.expr, p.title).toMatch(/\S/);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const boxes = panels.map((p) => ({ title: p.title, ...p.gridPos }));
    for (const b of boxes) expect(b.x + b.w, b.title).toBeLessThanOrEqual(24);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${a.title} / ${b.title}`).toBe(false);
      }
    }
  });

  it.each([
    ['reconcile rate by result', /sum by \(result\) \(rate\(traefik_sync_reconcile_total/],
    ['reconcile errors', /traefik_sync_reconcile_total\{[^}]*result="error"/],
    ['change → file latency p50', /histogram_quantile\(0\.5, sum by \(le\) \(rate\(traefik_sync_change_apply_seconds_bucket/],
    ['change → file latency p95', /histogram_quantile\(0\.95, sum by \(le\) \(rate\(traefik_sync_change_apply_seconds_bucket/],
    ['change → file latency p99', /histogram_quantile\(0\.99, sum by \(le\) \(rate\(traefik_sync_change_apply_seconds_bucket/],
    ['reconcile duration', /traefik_sync_reconcile_duration_seconds_bucket/],
    ['drift files by kind', /sum by \(kind\) \(traefik_sync_drift_files/],
    ['drift detected rate', /traefik_sync_drift_detected_total/],
    ['queue depth', /traefik_sync_queue_depth/],
    ['database up', /traefik_sync_db_up/],
    ['LISTEN connected', /traefik_sync_listen_connected/],
    ['leader', /traefik_sync_is_leader/],
    ['projects failed', /traefik_sync_projects_failed/],
    ['last success age', /time\(\) - [^\n]*traefik_sync_last_success_timestamp_seconds/],
    ['volume free bytes', /traefik_sync_volume_free_bytes/],
    ['certificate expiry', /traefik_sync_certificate_not_after_timestamp_seconds[^\n]*- time\(\)/],
  ])('shows %s', (_what, pattern) => {
    expect(allExprs).toMatch(pattern);
  });

  it('shows certificate expiry as a table, soonest first', () => {
    const table = queryPanels.find((p) => p.type === 'table' && /certificate/i.test(p.title));
    expect(table).toBeDefined();
    expect(table.targets[0]).toMatchObject({ instant: true, format: 'table' });
    expect(table.transformations.find((t: any) => t.id === 'sortBy').options.sort[0].desc).toBe(false);
  });
});
