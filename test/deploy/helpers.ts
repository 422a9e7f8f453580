/**
 * Reading deploy/ for the manifest tests: YAML documents, a small hand-rolled kustomize
 * (resources, configMapGenerator, namespace) and lookups into the rendered objects.
 * Not a kustomize replacement: it covers what deploy/ uses, and the tests also run the
 * real one (`kubectl kustomize`): skipped without kubectl, failed in CI (test/helpers/requires.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** deploy/ */
export const deployDir = path.join(repoRoot, 'deploy');

/** A Kubernetes object as plain data. */
export type K8sObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

/** Every file under `dir` (recursively) whose name ends in one of `exts`, sorted. */
export function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) out.push(full);
  }
  return out.sort();
}

/** The documents of a YAML file; throws with the file name on any parse error or warning. */
export function readYamlDocs(file: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { prettyErrors: true });
  const problems = docs.flatMap((d) => [...d.errors, ...d.warnings]);
  if (problems.length > 0) {
    throw new Error(`${path.relative(repoRoot, file)}: ${problems.map((p) => p.message).join('; ')}`);
  }
  return docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}

/** The single document of a YAML file. */
export function readYaml<T = any>(file: string): T {
  const docs = readYamlDocs(file);
  if (docs.length !== 1) throw new Error(`${path.relative(repoRoot, file)}: expected one document, found ${docs.length}`);
  return docs[0] as T;
}

/** A parsed kustomization.yaml (the fields deploy/ uses). */
export interface Kustomization {
  namespace?: string;
  resources?: string[];
  patches?: Array<{ path?: string; patch?: string; target?: Record<string, string> }>;
  replicas?: Array<{ name: string; count: number }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
  generatorOptions?: { disableNameSuffixHash?: boolean; labels?: Record<string, string> };
  configMapGenerator?: Array<{ name: string; files?: string[] }>;
}

/** kustomization.yaml of a directory. */
export function readKustomization(dir: string): Kustomization {
  return readYaml<Kustomization>(path.join(dir, 'kustomization.yaml'));
}

/** Every file a kustomization refers to (resources, patches, generator inputs), resolved. */
export function referencedPaths(dir: string): Array<{ field: string; ref: string; resolved: string }> {
  const k = readKustomization(dir);
  const refs: Array<{ field: string; ref: string; resolved: string }> = [];
  for (const r of k.resources ?? []) refs.push({ field: 'resources', ref: r, resolved: path.resolve(dir, r) });
  for (const p of k.patches ?? []) if (p.path) refs.push({ field: 'patches', ref: p.path, resolved: path.resolve(dir, p.path) });
  for (const g of k.configMapGenerator ?? []) {
    for (const f of g.files ?? []) {
      const file = f.includes('=') ? f.slice(f.indexOf('=') + 1) : f;
      refs.push({ field: 'configMapGenerator', ref: f, resolved: path.resolve(dir, file) });
    }
  }
  return refs;
}

/**
 * The objects a kustomization directory renders, by hand: resources (files and nested
 * kustomizations), configMapGenerator (with generatorOptions labels; no hash suffix) and
 * the namespace field. Patches, replicas and images are not applied.
 */
export function renderByHand(dir: string): K8sObject[] {
  const k = readKustomization(dir);
  const objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const full = path.resolve(dir, r);
    if (statSync(full).isDirectory()) objects.push(...renderByHand(full));
    else objects.push(...(readYamlDocs(full) as K8sObject[]));
  }
  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) {
      const [key, file] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [path.basename(f), f];
      data[key] = readFileSync(path.resolve(dir, file), 'utf8');
    }
    const labels = k.generatorOptions?.labels;
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name, ...(labels ? { labels: { ...labels } } : {}) }, data });
  }
  if (k.namespace) {
    for (const o of objects) {
      if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
      if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
        for (const s of o.subjects ?? []) if (s.kind === 'ServiceAccount') s.namespace = k.namespace;
      }
    }
  }
  return objects;
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
]);

/** The one object of `kind` (and `name`, when given); throws if there is not exactly one. */
export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** Whether a path exists. */
export function exists(p: string): boolean {
  return existsSync(p);
}
