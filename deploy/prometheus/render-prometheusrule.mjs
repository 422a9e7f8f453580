#!/usr/bin/env node
// Writes deploy/base/prometheusrule.yaml (a Prometheus Operator PrometheusRule) from the
// plain rules file deploy/prometheus/traefik-sync-rules.yml, so the two never disagree.
//
//   node deploy/prometheus/render-prometheusrule.mjs          write it
//   node deploy/prometheus/render-prometheusrule.mjs --check  exit 1 if it is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const rulesPath = fileURLToPath(new URL('./traefik-sync-rules.yml', import.meta.url));
const outPath = fileURLToPath(new URL('../base/prometheusrule.yaml', import.meta.url));

const header = [
  '# GENERATED from deploy/prometheus/traefik-sync-rules.yml by',
  '# `node deploy/prometheus/render-prometheusrule.mjs`. Do not edit: edit the rules file and re-run.',
  "# Your Prometheus may select rules by label (e.g. kube-prometheus-stack's `release: <name>`):",
  '# add that label in an overlay.',
  '',
].join('\n');

const rules = parse(readFileSync(rulesPath, 'utf8'));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'traefik-sync',
    labels: {
      'app.kubernetes.io/name': 'traefik-sync',
      'app.kubernetes.io/part-of': 'traefik-sync',
    },
  },
  spec: { groups: rules.groups },
};
const text = header + stringify(rule);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(outPath, 'utf8');
  } catch {
    /* missing counts as stale */
  }
  if (current !== text) {
    console.error(`${outPath} is out of date: run node deploy/prometheus/render-prometheusrule.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(outPath, text);
}
