/**
 * Checks that span the whole input: unsafe strings anywhere (NUL, lone surrogates, Go-template
 * delimiters, control characters), nesting and size; middleware chains and health checks by the
 * renderer's own rules (parseChain, checkHealthCheck); zod issues → field-level issues.
 */
import { z } from 'zod';
import { quote } from '../errors.js';
import { checkHealthCheck, parseChain } from '../render/middleware.js';
import type { MiddlewareSpec } from '../model.js';
import { redactValues, secretValues } from '../redact.js';
import { joinPath, type ValidationIssue } from './errors.js';
import { LIMITS, sizeCapped } from './fields.js';

type Segment = string | number;

/** Fields whose strings are multi-line PEM text (newlines allowed, value never quoted). */
const PEM_FIELDS = new Set(['certPem', 'keyPem', 'ca', 'clientCert']);

/** The problem with one string anywhere in an input, or null. Never quotes the value. */
export function stringProblem(v: string, multiLine = false): string | null {
  if (v.includes('\u0000')) return 'contains a NUL byte';
  if (/\p{Cs}/u.test(v)) return 'is not valid UTF-8 (contains a lone surrogate)';
  if (v.includes('{{') || v.includes('}}')) return 'contains "{{" or "}}", which Traefik would run as a Go template';
  const ctl = multiLine ? /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/.exec(v) : /[\x01-\x08\x0a-\x1f\x7f]/.exec(v);
  if (ctl) return `contains the control character U+${ctl[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (v.includes('\u2551')) return 'contains "║", which Traefik uses internally as a list separator';
  if (!multiLine && v.length > LIMITS.stringChars) return `is ${v.length} characters long; at most ${LIMITS.stringChars} allowed`;
  return null;
}

/**
 * Walk any JSON-like input and report every unsafe string (values and keys), reserved key and
 * excessive nesting, with its path. Runs before the shape checks, on the raw input.
 */
export function unsafeValues(value: unknown, path: Segment[] = [], depth = 0): Array<{ path: Segment[]; message: string }> {
  const out: Array<{ path: Segment[]; message: string }> = [];
  const last = path.at(-1);
  if (typeof value === 'string') {
    const m = stringProblem(value, typeof last === 'string' && PEM_FIELDS.has(last));
    if (m) out.push({ path, message: m });
    return out;
  }
  if (typeof value !== 'object' || value === null) return out;
  if (depth >= LIMITS.depth) return [{ path, message: `is nested more than ${LIMITS.depth} levels deep` }];
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...unsafeValues(v, [...path, i], depth + 1)));
    return out;
  }
  for (const [k, v] of Object.entries(value)) {
    const km = k === '__proto__' || k === 'constructor' || k === 'prototype' ? 'is a reserved key' : stringProblem(k);
    if (km) out.push({ path: [...path, k], message: `key ${km}` });
    else out.push(...unsafeValues(v, [...path, k], depth + 1));
  }
  return out;
}

/** Turn `[0].ref: message` (the renderer's relative field prefix) into a path and a message. */
export function splitPrefixed(text: string): { segments: Segment[]; message: string } {
  const m = /^((?:\[\d+\]|\.[^.[:\s]+)*): ([\s\S]*)$/.exec(text);
  if (!m) return { segments: [], message: text };
  const segments: Segment[] = [];
  for (const part of m[1]!.match(/\[\d+\]|\.[^.[:\s]+/g) ?? []) {
    segments.push(part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1));
  }
  return { segments, message: m[2]! };
}

/** A route's middleware chain: at most {@link LIMITS.chain} elements, checked by the renderer's parseChain. */
export const middlewareField = sizeCapped(z.array(z.unknown()).max(LIMITS.chain)).superRefine((chain, ctx) => {
  const secrets = secretValues(chain);
  for (const p of parseChain(chain as MiddlewareSpec[], '').problems) {
    const { segments, message } = splitPrefixed(p);
    ctx.addIssue({ code: 'custom', message: redactValues(message, secrets), path: segments });
  }
});

/** A route's health check, checked by the renderer's checkHealthCheck. */
export const healthCheckField = sizeCapped(z.record(z.string(), z.unknown())).superRefine((hc, ctx) => {
  const secrets = secretValues(hc);
  for (const p of checkHealthCheck(hc, '')) {
    const { segments, message } = splitPrefixed(p);
    ctx.addIssue({ code: 'custom', message: redactValues(message, secrets), path: segments });
  }
});

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

/** The input quoted with its type: `"80" (a string)`. */
export function got(v: unknown): string {
  if (v === null || typeof v === 'object') return typeName(v);
  return `${quote(v)} (${typeName(v)})`;
}

const NAMES: Record<string, string> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  record: 'an object',
};

/** Zod's per-parse error customization: messages in our words, quoting the value and its type. */
function errorMessage(iss: z.core.$ZodRawIssue): string | undefined {
  const input = (iss as { input?: unknown }).input;
  switch (iss.code) {
    case 'invalid_type':
      return input === undefined ? 'is required' : `expected ${NAMES[iss.expected] ?? iss.expected}, got ${got(input)}`;
    case 'too_big':
      return iss.origin === 'array' ? `at most ${String(iss.maximum)} entries allowed` : `at most ${String(iss.maximum)} allowed`;
    case 'invalid_value':
      return `expected ${iss.values.map((v) => quote(v)).join(' or ')}, got ${got(input)}`;
    default:
      return undefined;
  }
}

/** Hints for unknown fields that are probably a known field under another name. */
export type FieldHints = Readonly<Record<string, string>>;

/**
 * Parse `input` with `schema`, after the unsafe-value walk. Issues from both, one per field (the
 * unsafe-value message wins at a path), with `hints` for misspelled or renamed fields.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  input: unknown,
  hints: FieldHints = {},
): { value: T | undefined; issues: Array<{ path: Segment[]; message: string }> } {
  const unsafe = unsafeValues(input);
  const res = schema.safeParse(input, { error: errorMessage });
  const issues = [...unsafe];
  const covered = new Set(unsafe.map((u) => joinPath(u.path)));
  if (!res.success) {
    for (const iss of res.error.issues) {
      const path = iss.path.filter((s): s is Segment => typeof s !== 'symbol');
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) {
          const hint = hints[k] ? ` (did you mean ${quote(hints[k])}?)` : '';
          issues.push({ path: [...path, k], message: `unknown field${hint}` });
        }
        continue;
      }
      const at = joinPath(path);
      if ([...covered].some((c) => at === c || at.startsWith(`${c}.`) || at.startsWith(`${c}[`))) continue;
      issues.push({ path, message: iss.message });
    }
  }
  return { value: res.success && unsafe.length === 0 ? res.data : undefined, issues };
}

/** Issues with string paths. */
export function toIssues(raw: ReadonlyArray<{ path: Segment[]; message: string }>, base: Segment[] = []): ValidationIssue[] {
  return raw.map((r) => ({ path: joinPath([...base, ...r.path]), message: r.message }));
}
