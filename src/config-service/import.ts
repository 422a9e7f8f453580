/**
 * `import DIR`: existing Traefik dynamic files (YAML) → new projects in the database, in one
 * transaction. Each mapped project is checked exactly like a spec (shapes, then the renderer);
 * a route, domain or service that fails is left out and reported with the reason, so what lands
 * always renders. Projects that already exist are not touched.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError, quote } from '../errors.js';
import type { ApplyOptions, ApplyResult, ChangeView } from './describe.js';
import type { DesiredProject } from './desired.js';
import { formatIssue, type ValidationIssue } from './errors.js';
import { mapTree, type ImportedProject, type MapOptions } from './import-map.js';
import { readSourceTree, type ImportNote, type SourceTree } from './import-read.js';
import { resolveSpec } from './spec.js';

/** Options of {@link importDirectory}. */
export interface ImportOptions extends MapOptions {
  readonly dryRun?: boolean;
  /** Called as projects are checked, then as they are written (a progress line on a terminal). */
  readonly onProgress?: (phase: 'checked' | 'written', done: number, total: number) => void;
}

/** What an import created (or would create), and everything it did not map as it was. */
export interface ImportOutcome {
  readonly projects: Array<{
    readonly name: string;
    readonly services: number;
    readonly domains: number;
    readonly routes: number;
    /** TCP and UDP routes. */
    readonly l4Routes: number;
    readonly changes: ChangeView[];
  }>;
  readonly notes: ImportNote[];
}

interface Cert {
  readonly source: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly x509: X509Certificate;
  used: boolean;
}

async function firstFile(candidates: string[]): Promise<string | null> {
  for (const c of candidates) if ((await stat(c).catch(() => null))?.isFile()) return c;
  return null;
}

async function loadCertificates(tree: SourceTree, dir: string, notes: ImportNote[]): Promise<Cert[]> {
  const out: Cert[] = [];
  for (const c of tree.certificates) {
    const skip = (reason: string) => notes.push({ file: c.file, item: c.name, status: 'skipped', reason });
    const { certFile, keyFile } = c.value;
    if (typeof certFile !== 'string' || typeof keyFile !== 'string') {
      skip('certFile and keyFile are required');
      continue;
    }
    if (certFile.includes('-----BEGIN') || keyFile.includes('-----BEGIN')) {
      skip('inline PEM content is not imported; put the certificate and key in files');
      continue;
    }
    const find = (p: string) => firstFile(path.isAbsolute(p) ? [p] : [path.resolve(dir, path.dirname(c.file), p), path.resolve(dir, p)]);
    const [cf, kf] = await Promise.all([find(certFile), find(keyFile)]);
    if (!cf || !kf) {
      skip(
        `${!cf ? `certFile ${quote(certFile)}` : `keyFile ${quote(keyFile)}`} not found (relative paths are tried against the file's folder and the imported directory)`,
      );
      continue;
    }
    try {
      out.push({ source: `${c.file}: ${c.name}`, certFile: cf, keyFile: kf, x509: new X509Certificate(await readFile(cf)), used: false });
    } catch {
      skip(`certFile ${quote(certFile)} is not a PEM certificate`);
    }
  }
  return out;
}

/** Drop what `problems` point at (route, domain or service); returns false when a problem points at the project as a whole. */
function prune(
  p: ImportedProject,
  problems: ReadonlyArray<{ path: string; message: string }>,
  sources: WeakMap<object, string[]>,
  notes: ImportNote[],
): boolean {
  const spec = p.spec;
  const drop = new Set<object>();
  for (const issue of problems) {
    const l4 = /^(tcp|udp)\[(\d+)\]/.exec(issue.path);
    if (l4) {
      const route = spec[l4[1] as 'tcp' | 'udp']?.[Number(l4[2])];
      if (!route) return false;
      drop.add(route);
      for (const src of sources.get(route) ?? []) {
        const [file, item] = [src.slice(0, src.indexOf(': ')), src.slice(src.indexOf(': ') + 2)];
        notes.push({
          file,
          item,
          status: 'skipped',
          reason: `not valid for traefik-sync: ${formatIssue({ ...issue, path: issue.path.replace(/^(tcp|udp)\[\d+\]\.?/, '') })}`,
        });
      }
      continue;
    }
    const m = /^(services|domains)\[(\d+)\](?:\.routes\[(\d+)\])?/.exec(issue.path);
    const domain = m?.[1] === 'domains' ? spec.domains[Number(m[2])] : undefined;
    const target: object | undefined = !m
      ? undefined
      : m[1] === 'services'
        ? spec.services[Number(m[2])]
        : m[3] !== undefined
          ? domain?.routes[Number(m[3])]
          : domain;
    if (!target) return false;
    drop.add(target);
    for (const src of sources.get(target) ?? [`${p.name}: ${issue.path}`]) {
      const [file, item] = src.includes(': ') ? [src.slice(0, src.indexOf(': ')), src.slice(src.indexOf(': ') + 2)] : ['', src];
      notes.push({
        file,
        item,
        status: 'skipped',
        reason: `not valid for traefik-sync: ${formatIssue({ ...issue, path: issue.path.replace(/^(services|domains)\[\d+\](\.routes\[\d+\])?\.?/, '') })}`,
      });
    }
  }
  for (const protocol of ['tcp', 'udp'] as const) if (spec[protocol]) spec[protocol] = spec[protocol].filter((r) => !drop.has(r));
  const droppedServices = new Set(spec.services.filter((s) => drop.has(s)).map((s) => s.name));
  spec.domains = spec.domains.filter((d) => !drop.has(d));
  for (const d of spec.domains) d.routes = d.routes.filter((r) => !drop.has(r) && !droppedServices.has(String(r.service)));
  spec.domains = spec.domains.filter((d) => d.routes.length > 0);
  const used = new Set(spec.domains.flatMap((d) => d.routes.map((r) => String(r.service))));
  spec.services = spec.services.filter((s) => used.has(String(s.name)));
  return true;
}

/** What an import needs of the config service (operations.ts SpecOperations provides it). */
export interface ImportTarget {
  findProject(name: string): Promise<unknown>;
  preview(name: string, spec: unknown, options: { baseDir: string }): Promise<{ problems: readonly ValidationIssue[] }>;
  applyProjects(projects: readonly DesiredProject[], options: ApplyOptions): Promise<ApplyResult[]>;
}

/** Import `dir` into new projects (see the module comment). */
export async function importDirectory(service: ImportTarget, dir: string, options: ImportOptions = {}): Promise<ImportOutcome> {
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UserError(`import: ${quote(dir)} is not a directory`);
  const tree = await readSourceTree(dir);
  const { projects, notes } = mapTree(tree, { ...options, dir });
  notes.unshift(...tree.notes);
  const certs = await loadCertificates(tree, dir, notes);
  const sources = new WeakMap<object, string[]>();
  for (const p of projects) {
    p.spec.services.forEach((s, i) => sources.set(s, p.sources.get(`services[${i}]`) ?? []));
    p.spec.domains.forEach((d, i) => {
      sources.set(d, p.sources.get(`domains[${i}]`) ?? []);
      d.routes.forEach((r, j) => sources.set(r, p.sources.get(`domains[${i}].routes[${j}]`) ?? []));
      if (d.ssl && !d.provider) {
        const host = d.subdomain ? `${String(d.subdomain)}.${String(d.domain)}` : String(d.domain);
        const cert = certs.find((c) => c.x509.checkHost(host));
        if (cert) {
          cert.used = true;
          Object.assign(d, { provider: 'custom', certificate: { certFile: cert.certFile, keyFile: cert.keyFile } });
        }
      }
    });
  }
  for (const c of certs)
    if (!c.used)
      notes.push({
        file: c.source.split(': ')[0]!,
        item: c.source.split(': ')[1]!,
        status: 'skipped',
        reason: 'no imported TLS domain without a certResolver matches it',
      });

  const ready: ImportedProject[] = [];
  for (const [done, p] of projects.entries()) {
    options.onProgress?.('checked', done, projects.length);
    const fail = (reason: string) => notes.push({ file: '', item: `project ${p.name}`, status: 'skipped', reason });
    if (await service.findProject(p.name)) {
      fail('a project of that name already exists; import creates new projects only (use --project-prefix)');
      continue;
    }
    for (const protocol of ['tcp', 'udp'] as const)
      p.spec[protocol]?.forEach((r, i) => sources.set(r, p.sources.get(`${protocol}[${i}]`) ?? []));
    const something = () => p.spec.domains.length + (p.spec.tcp?.length ?? 0) + (p.spec.udp?.length ?? 0) > 0;
    let ok = true;
    for (let attempt = 0; attempt < 20 && something(); attempt++) {
      const { problems } = await service.preview(p.name, p.spec, { baseDir: '/' });
      if (!problems.length) break;
      if (!prune(p, problems, sources, notes)) {
        fail(problems.map(formatIssue).join('; '));
        ok = false;
        break;
      }
    }
    if (ok && something()) ready.push(p);
    else if (ok) fail('nothing in it could be imported');
  }
  options.onProgress?.('checked', projects.length, projects.length);
  const desired = await Promise.all(ready.map((p) => resolveSpec(p.spec, { baseDir: '/' })));
  const written = options.onProgress && ((done: number, total: number) => options.onProgress!('written', done, total));
  const results = desired.length ? await service.applyProjects(desired, { dryRun: options.dryRun, onProgress: written }) : [];
  return {
    projects: ready.map((p, i) => ({
      name: p.name,
      services: p.spec.services.length,
      domains: p.spec.domains.length,
      routes: p.spec.domains.reduce((n, d) => n + d.routes.length, 0),
      l4Routes: (p.spec.tcp?.length ?? 0) + (p.spec.udp?.length ?? 0),
      changes: results[i]?.changes ?? [],
    })),
    notes,
  };
}
