/**
 * The alert rules: `promtool check rules` and `promtool test rules` pass (skipped with a
 * printed reason when promtool is not installed, failed in CI: test/helpers/requires.ts), the
 * PrometheusRule in deploy/base carries exactly the plain rules file's groups, every alert
 * has a summary, description and README runbook link, and every alert has a promtool test
 * in which it fires and is covered by the healthy case in which nothing fires.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tool } from '../helpers/requires.js';
import { deployDir, readYaml } from './helpers.js';

const rulesFile = path.join(deployDir, 'prometheus/traefik-sync-rules.yml');
const testFile = path.join(deployDir, 'prometheus/traefik-sync-rules.test.yml');
const prometheusRuleFile = path.join(deployDir, 'base/prometheusrule.yaml');

/** Skipped without promtool, failed in CI (test/helpers/requires.ts). */
const promtool = tool('promtool', 'Debian: apt-get install -y prometheus');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: Array<{ exp_labels?: Record<string, string> }>;
}
interface TestFile {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: AlertTest[] }>;
}

const rules = readYaml<RulesFile>(rulesFile);
const alerts = rules.groups.flatMap((g) => g.rules).filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const alertNames = [...new Set(alerts.map((a) => a.alert))];

function runPromtool(args: string[]): string {
  try {
    return execFileSync(promtool.path!, args, { cwd: path.dirname(rulesFile), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

promtool.describe('promtool', () => {
  it('check rules: the rules file is valid', () => {
    expect(runPromtool(['check', 'rules', path.basename(rulesFile)])).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules: every unit test passes', () => {
    expect(runPromtool(['test', 'rules', path.basename(testFile)])).toMatch(/SUCCESS/);
  });
});

describe('alert rules', () => {
  it('cover drift, sync failure, staleness, database, LISTEN, delete guard, certificates, volume, leadership, routing, what Traefik serves and a Traefik restart it needs', () => {
    expect(alertNames.sort()).toEqual([
      'TraefikServiceErrorRate',
      'TraefikServiceServerDown',
      'TraefikSyncCertificateExpiring',
      'TraefikSyncChangeNotLive',
      'TraefikSyncDatabaseDown',
      'TraefikSyncDeleteGuardBlocked',
      'TraefikSyncDriftDetected',
      'TraefikSyncListenDisconnected',
      'TraefikSyncNoLeader',
      'TraefikSyncProjectsFailing',
      'TraefikSyncReconcileErrors',
      'TraefikSyncStale',
      'TraefikSyncTraefikApiDown',
      'TraefikSyncTraefikErrors',
      'TraefikSyncTraefikRestartNeeded',
      'TraefikSyncUnownedFiles',
      'TraefikSyncVolumeNearlyFull',
    ]);
  });

  it.each(alerts.map((a, i) => [`${a.alert} #${i}`, a] as const))(
    '%s has a severity, a summary, a description and a README runbook link',
    (_name, a) => {
      expect(['warning', 'critical']).toContain(a.labels?.severity);
      expect(a.annotations?.summary?.length).toBeGreaterThan(10);
      expect(a.annotations?.description?.length).toBeGreaterThan(20);
      expect(a.annotations?.runbook_url).toBe(`https://github.com/traefik-sync/traefik-sync#alert-${a.alert.toLowerCase()}`);
    },
  );

  it('the certificate alert warns under 14 days and is critical under 3', () => {
    const cert = alerts.filter((a) => a.alert === 'TraefikSyncCertificateExpiring');
    expect(cert.map((a) => [a.labels?.severity, a.expr])).toEqual([
      ['warning', 'traefik_sync_certificate_not_after_timestamp_seconds - time() < 14 * 86400'],
      ['critical', 'traefik_sync_certificate_not_after_timestamp_seconds - time() < 3 * 86400'],
    ]);
  });

  it("the PrometheusRule in deploy/base carries exactly the plain rules file's groups", () => {
    const pr = readYaml(prometheusRuleFile);
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.spec.groups, 'run: node deploy/prometheus/render-prometheusrule.mjs').toEqual(rules.groups);
  });

  it('the PrometheusRule is byte-for-byte what render-prometheusrule.mjs generates', () => {
    expect(() =>
      execFileSync(process.execPath, [path.join(deployDir, 'prometheus/render-prometheusrule.mjs'), '--check'], { stdio: 'pipe' }),
    ).not.toThrow();
  });
});

describe('promtool unit tests', () => {
  const tests = readYaml<TestFile>(testFile);
  const cases = tests.tests.flatMap((t) => (t.alert_rule_test ?? []).map((c) => ({ test: t.name, ...c })));

  it('load the rules file', () => {
    expect(tests.rule_files).toEqual([path.basename(rulesFile)]);
  });

  it.each(alertNames)('%s fires in some test', (name) => {
    expect(cases.some((c) => c.alertname === name && (c.exp_alerts ?? []).length > 0)).toBe(true);
  });

  it.each(alertNames)('%s is expected quiet in the healthy test', (name) => {
    const healthy = tests.tests.find((t) => /^healthy/.test(t.name));
    expect(healthy).toBeDefined();
    expect(healthy!.alert_rule_test!.some((c) => c.alertname === name && (c.exp_alerts ?? []).length === 0)).toBe(true);
  });

  it('only test alerts that exist', () => {
    for (const c of cases) expect(alertNames, c.test).toContain(c.alertname);
  });
});
