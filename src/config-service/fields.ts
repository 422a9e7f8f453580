/**
 * Field rules shared by the service API and the spec file: names, host names, paths, ports,
 * URLs, resolvers, and the limits on sizes. Each rule is a function returning the problem (or
 * null), wrapped as a zod schema; the database constraints (sql/001_schema.sql) say the same.
 */
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { shardProblem } from '../config.js';
import { quote } from '../errors.js';
import { DNS_LABEL, UUID } from '../model.js';
import { wildcardProblem } from '../render/hosts.js';
import { pathRuleProblem } from '../render/project.js';

/** Caps that keep one request, one row and one spec file small. */
export const LIMITS = {
  /** Serialized size of one jsonb value (middleware chain, health check). */
  jsonBytes: 64 * 1024,
  /** One PEM text (certificate or key). */
  pemBytes: 64 * 1024,
  /** Any other string anywhere in an input. */
  stringChars: 8 * 1024,
  /** A spec file. */
  specBytes: 1024 * 1024,
  /** Nesting of objects and arrays. */
  depth: 16,
  chain: 32,
  services: 500,
  domains: 500,
  routesPerDomain: 1000,
} as const;

/** Printable ASCII without space, quotes, backtick, backslash or braces (route_configs_path_rule_format). */
const SAFE = /^[!#-&(-[\]-_a-z|~]*$/;
const PROVIDER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** The problem with a project or service name (the directory / file name), or null. */
export function nameProblem(v: string): string | null {
  if (v.includes('/') || v.includes('\\') || v.includes('..') || v === '.') {
    return `must be a plain name without "/", "\\" or "..", got ${quote(v)}`;
  }
  if (DNS_LABEL.test(v)) return null;
  if (DNS_LABEL.test(v.toLowerCase())) return `must be lower case: use ${quote(v.toLowerCase())}`;
  return `expected 1–63 lower-case letters, digits or "-", not starting or ending with "-", got ${quote(v)}`;
}

function hostLike(v: string, what: string, maxLength: number, wildcard: 'no' | 'leftmost' = 'no'): string | null {
  if (v.includes('`')) return `contains a backtick, which would break out of the rule's quoting: ${quote(v)}`;
  if (/[^\x20-\x7e]/.test(v)) {
    const ascii = domainToASCII(v.toLowerCase());
    return ascii && !/[^\x20-\x7e]/.test(ascii) && ascii !== v
      ? `internationalized names must be given in punycode (lower case): use ${quote(ascii)} instead of ${quote(v)}`
      : `must be ASCII (punycode for internationalized names), got ${quote(v)}`;
  }
  if (v !== v.toLowerCase()) return `must be lower case: use ${quote(v.toLowerCase())}`;
  if (v.includes('*')) {
    if (wildcard === 'no') return `wildcards are not supported here, got ${quote(v)}`;
    const m = wildcardProblem(v, what === 'subdomain' ? 0 : 2);
    if (m) return m;
  }
  if (v.length > maxLength) return `${what} is longer than ${maxLength} characters`;
  const labels = (v.startsWith('*.') ? v.slice(2) : v === '*' ? 'x' : v).split('.');
  if (v === '' || !labels.every((l) => DNS_LABEL.test(l))) {
    return `expected a ${what}: dot-separated labels of a-z, 0-9 and "-" (1–63 each, no leading or trailing "-"), got ${quote(v)}`;
  }
  return null;
}

/** The problem with a host name (domain, service host), or null. */
export function hostnameProblem(v: string): string | null {
  return hostLike(v, 'host name', 253);
}

/**
 * The problem with a domain's name, or null: a host name, or a wildcard host (`*.example.com`:
 * the `*` the whole leftmost label, two labels or more after it).
 */
export function domainProblem(v: string): string | null {
  return hostLike(v, 'host name', 253, 'leftmost');
}

/** The problem with a subdomain (labels in front of the domain; the leftmost may be `*`), or null. */
export function subdomainProblem(v: string): string | null {
  return hostLike(v, 'subdomain', 200, 'leftmost');
}

/** The problem with a route path (PathPrefix value), or null. */
export function pathProblem(v: string): string | null {
  if (!v.startsWith('/')) return `must start with "/", got ${quote(v)}`;
  if (v.length > 1024) return 'is longer than 1024 characters';
  if (v.includes('`')) return `contains a backtick, which would break out of the rule's quoting: ${quote(v)}`;
  if (!SAFE.test(v)) return `may contain only printable ASCII without spaces, quotes, backticks, backslashes or braces, got ${quote(v)}`;
  return pathRuleProblem(v);
}

/** The problem with an upstream URL (`http://`, `https://` or `h2c://`), or null. */
export function urlProblem(v: string): string | null {
  if (v.length > 2048) return 'is longer than 2048 characters';
  const m = /^(https?|h2c):\/\/(.+)$/.exec(v);
  if (!m) return `expected an http://, https:// or h2c:// URL, got ${quote(v)}`;
  if (!SAFE.test(m[2]!))
    return `may contain only printable ASCII without spaces, quotes, backticks, backslashes or braces, got ${quote(v)}`;
  try {
    const u = new URL(v.replace(/^h2c:/, 'http:'));
    if (!u.hostname) return `has no host, got ${quote(v)}`;
  } catch {
    return `is not a valid URL, got ${quote(v)}`;
  }
  return null;
}

/** The problem with an SSL provider (ACME resolver name or "custom"), or null. */
export function providerProblem(v: string): string | null {
  return PROVIDER.test(v) ? null : `expected a resolver name (letters, digits, "_" or "-", at most 63) or "custom", got ${quote(v)}`;
}

/** Zod schema of a string checked by `problem`. */
function checked(problem: (v: string) => string | null) {
  return z.string().superRefine((v, ctx) => {
    const m = problem(v);
    if (m) ctx.addIssue({ code: 'custom', message: m });
  });
}

/** An integer between `min` and `max` (message `expected min–max, got X`). */
export function intIn(min: number, max: number) {
  return z.number().superRefine((v, ctx) => {
    if (!Number.isInteger(v) || v < min || v > max) ctx.addIssue({ code: 'custom', message: `expected ${min}–${max}, got ${quote(v)}` });
  });
}

/** Shard of a project (the Traefik deployment that serves it). */
export const shardField = checked(shardProblem);
/** Project or service name (a directory or file name). */
export const nameField = checked(nameProblem);
/** Lower-case ASCII host name. */
export const hostnameField = checked(hostnameProblem);
/** A domain: a host name or a wildcard host. */
export const domainField = checked(domainProblem);
/** More names on a domain's ACME certificate: host names or wildcard hosts, unique, 1–20. */
export const tlsSansField = z
  .array(domainField)
  .min(1)
  .max(20)
  .superRefine((v, ctx) => {
    const dup = v.find((x, i) => v.indexOf(x) !== i);
    if (dup !== undefined) ctx.addIssue({ code: 'custom', message: `${quote(dup)} is listed twice` });
  });
/** Subdomain labels. */
export const subdomainField = checked(subdomainProblem);
/** Route path (PathPrefix value). */
export const pathField = checked(pathProblem);
/** Upstream URL. */
export const urlField = checked(urlProblem);
/** ACME resolver name or "custom". */
export const providerField = checked(providerProblem);
/** TCP port 1–65535. */
export const portField = intIn(1, 65535);
/** Route priority 0–1000000 (route_configs_priority_range). */
export const priorityField = intIn(0, 1_000_000);
/** A row id. */
export const uuidField = checked((v) => (UUID.test(v) ? null : `expected a UUID, got ${quote(v)}`));

/** Size of a JSON value when stored (jsonb text). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A JSON value at most {@link LIMITS.jsonBytes} when serialized. */
export function sizeCapped<T extends z.ZodType>(schema: T) {
  return schema.superRefine((v, ctx) => {
    const n = jsonBytes(v);
    if (n > LIMITS.jsonBytes) ctx.addIssue({ code: 'custom', message: `is ${n} bytes as JSON; at most ${LIMITS.jsonBytes} allowed` });
  });
}
