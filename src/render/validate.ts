/**
 * Validation before any write: Traefik's published JSON schemas (vendored in schemas/), plus the
 * checks a schema cannot make — every reference resolves, no duplicate names, no duplicate rules.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { supplementDynamicSchema } from './schema-supplements.js';
import type { Documents, DynamicDocument, RenderedProject } from './types.js';

const SCHEMA_DIR = new URL('../../schemas/', import.meta.url);

let dynamicValidator: ValidateFunction | undefined;
let staticValidator: ValidateFunction | undefined;

function compile(file: string, supplement?: (schema: Record<string, unknown>) => void): ValidateFunction {
  const schema = JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as Record<string, unknown>;
  delete schema.$schema; // draft-07 is Ajv's default dialect
  supplement?.(schema);
  closeObjects(schema);
  return new Ajv({ strict: false, allErrors: true }).compile(schema);
}

/**
 * The published schema leaves some option objects open (basicAuth, forwardAuth.tls, …), but
 * Traefik refuses a key it does not know ("field not found"), and with the file every route of
 * the provider. Every object that lists its properties is closed to others here.
 */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) closeObjects(n);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.properties && typeof o.properties === 'object' && o.additionalProperties === undefined && o.patternProperties === undefined) {
    o.additionalProperties = false;
  }
  for (const v of Object.values(o)) closeObjects(v);
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '/';
    const extra =
      e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    return `${where}: ${e.message ?? e.keyword}${extra}`;
  });
}

/** Schema problems of one dynamic document (traefik-v3-file-provider.json). */
export function schemaProblemsDynamic(doc: unknown): string[] {
  dynamicValidator ??= compile('traefik-v3-file-provider.json', supplementDynamicSchema);
  if (dynamicValidator(doc ?? {})) return [];
  // oneOf (services, middlewares) reports every branch: a branch that does not list the property
  // holding the real error says it is "additional". Keep the messages that say something useful.
  const errors = dynamicValidator.errors ?? [];
  const inner = (e: ErrorObject) => {
    const prop = (e.params as { additionalProperty?: string }).additionalProperty;
    const at = `${e.instancePath}/${prop}`;
    return (
      e.keyword === 'additionalProperties' && errors.some((o) => o !== e && (o.instancePath === at || o.instancePath.startsWith(`${at}/`)))
    );
  };
  return [...new Set(describe(errors.filter((e) => !inner(e))).filter((m) => !m.endsWith('must match exactly one schema in oneOf')))];
}

/** Schema problems of the static configuration (traefik-v3.json). */
export function schemaProblemsStatic(doc: unknown): string[] {
  staticValidator ??= compile('traefik-v3.json');
  return staticValidator(doc) ? [] : describe(staticValidator.errors);
}

/** A reference to another provider's object (`name@provider`, not `@file`). */
function isExternal(ref: string): boolean {
  return ref.includes('@') && !ref.endsWith('@file');
}

/** Validate one project's documents: schema, references, duplicate names and rules. */
export function validateDynamic(documents: Documents): string[] {
  const problems: string[] = [];
  const services = new Set<string>();
  const middlewares = new Set<string>();
  const seen = new Map<string, string>();
  const rules = new Map<string, string>();
  for (const [path, doc] of documents) {
    for (const p of schemaProblemsDynamic(doc)) problems.push(`${path}: schema: ${p}`);
    for (const [kind, map] of kinds(doc)) {
      for (const name of Object.keys(map)) {
        if (name.includes('@')) problems.push(`${path}: ${kind} name ${name} contains "@"`);
        const key = `${kind}:${name}`;
        const other = seen.get(key);
        if (other) problems.push(`${path}: ${kind} ${name} is also defined in ${other}`);
        else seen.set(key, path);
        if (kind === 'service') services.add(name);
        if (kind === 'middleware') middlewares.add(name);
      }
    }
  }
  for (const [path, doc] of documents) {
    for (const [name, router] of Object.entries(doc.http?.routers ?? {})) {
      const service = String(router.service ?? '');
      if (!services.has(service) && !isExternal(service)) problems.push(`${path}: router ${name}: service ${service} does not exist`);
      for (const mw of (router.middlewares as string[] | undefined) ?? []) {
        if (!middlewares.has(mw) && !isExternal(mw)) problems.push(`${path}: router ${name}: middleware ${mw} does not exist`);
      }
      const ruleKey = `${String(router.rule)}|${JSON.stringify(router.entryPoints ?? [])}`;
      const dup = rules.get(ruleKey);
      if (dup) problems.push(`${path}: router ${name} has the same rule as router ${dup}: ${String(router.rule)}`);
      else rules.set(ruleKey, name);
    }
  }
  return problems;
}

function kinds(doc: DynamicDocument): Array<[string, Record<string, unknown>]> {
  return [
    ['router', doc.http?.routers ?? {}],
    ['service', doc.http?.services ?? {}],
    ['middleware', doc.http?.middlewares ?? {}],
  ];
}

/** The keys two projects must not share: object names and router rules (per entry point set). */
function projectKeys(project: RenderedProject): Set<string> {
  const keys = new Set<string>();
  for (const doc of project.documents.values()) {
    for (const [kind, map] of kinds(doc)) for (const name of Object.keys(map)) keys.add(`${kind} ${name}`);
    for (const router of Object.values(doc.http?.routers ?? {})) {
      keys.add(`rule ${String(router.rule)} on ${JSON.stringify(router.entryPoints ?? [])}`);
    }
    // tls.stores are global in Traefik (the default certificate has one owner, sql/015_tls_options.sql).
    for (const store of Object.keys(doc.tls?.stores ?? {})) keys.add(`tls store ${store}`);
    // TCP: one owner per server name per entry point; UDP: per entry point (render/l4.ts).
    for (const router of Object.values(doc.tcp?.routers ?? {}))
      keys.add(`rule tcp ${String(router.rule)} on ${JSON.stringify(router.entryPoints)}`);
    for (const router of Object.values(doc.udp?.routers ?? {})) keys.add(`rule udp on ${JSON.stringify(router.entryPoints)}`);
  }
  return keys;
}

/**
 * Router rules already claimed by earlier projects of a pass (projects are added in name order;
 * on a clash the first keeps its files, like Traefik's own first-wins rule). Object names need no
 * such check across projects: every name starts with `<project>_`, and project names are unique
 * and cannot contain `_`. Rules are checked even though the database allows one active
 * full_domain only — a defence that costs one short string per router.
 */
export class NameRegistry {
  /** Owner of each rule, by a 64-bit digest of the rule (a full pass holds every router's: 400,000 at 50,000 projects). */
  readonly #owners = new Map<string, string>();

  /** Register a project's rules; returns its problems when one is already claimed by another project. */
  add(project: RenderedProject): string[] {
    const problems: string[] = [];
    const keys = [...projectKeys(project)].filter((k) => k.startsWith('rule ') || k.startsWith('tls store '));
    for (const key of keys) {
      const other = this.#owners.get(digest64(key));
      if (other !== undefined && other !== project.projectName) problems.push(`${key} is also generated by project ${other}`);
    }
    if (problems.length === 0) for (const key of keys) this.#owners.set(digest64(key), project.projectName);
    return problems;
  }
}

/**
 * A 64-bit digest of `text` as a 4-character string (two FNV-1a hashes with different offsets):
 * small to keep, and a collision among a million rules has a chance of about 1 in 30 million.
 */
function digest64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return String.fromCharCode(a >>> 16, a & 0xffff, b >>> 16, b & 0xffff);
}

/**
 * Checks across projects: the same object name or the same router rule in two projects.
 * Returns problems keyed by project id; a clash is reported on every project involved.
 */
export function crossCheck(projects: readonly RenderedProject[]): Map<string, string[]> {
  const owners = new Map<string, RenderedProject>();
  const out = new Map<string, string[]>();
  const report = (p: RenderedProject, msg: string) => out.set(p.projectId, [...(out.get(p.projectId) ?? []), msg]);
  for (const project of projects) {
    if (project.problems.length) continue;
    for (const key of projectKeys(project)) {
      const other = owners.get(key);
      if (other && other.projectId !== project.projectId) {
        report(project, `${key} is also generated by project ${other.projectName}`);
        report(other, `${key} is also generated by project ${project.projectName}`);
      } else {
        owners.set(key, project);
      }
    }
  }
  return out;
}
