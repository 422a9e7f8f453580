/**
 * Errors of the config service: every problem with an input as a field-level issue
 * (`domains[1].routes[0].targetPort: expected 1–65535, got 0`), all of them at once.
 */
import { UserError } from '../errors.js';
import { redact } from '../redact.js';

/** One problem with one field of an input (or spec file). */
export interface ValidationIssue {
  /** Where: `domains[1].routes[0].targetPort`; empty for the input as a whole. */
  readonly path: string;
  /** What is wrong, quoting the bad value (never key material). One line. */
  readonly message: string;
  /** Line in the spec file, when the input came from one. */
  readonly line?: number;
}

/** `path: message` (or just `message` for the whole input). */
export function formatIssue(issue: ValidationIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

/**
 * Input rejected before anything was written. `issues` lists every problem found; the message
 * is one line (the CLI prints `issues` one per line instead).
 */
export class ValidationError extends UserError {
  readonly issues: readonly ValidationIssue[];

  constructor(raw: readonly ValidationIssue[]) {
    // Messages quote inputs: no password, token or key leaves in one (src/redact.ts).
    const issues = raw.map((i) => ({ ...i, message: redact(i.message) }));
    const shown = issues.slice(0, 5).map(formatIssue).join('; ');
    super(`invalid input (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${shown}${issues.length > 5 ? '; …' : ''}`, 1);
    Object.defineProperty(this, 'name', { value: 'ValidationError' });
    this.issues = issues;
  }
}

/** A row named by id (project, service, domain, route, certificate) does not exist. */
export class NotFoundError extends UserError {
  constructor(what: string, id: string) {
    super(`${what} ${JSON.stringify(id)} does not exist`, 1);
    Object.defineProperty(this, 'name', { value: 'NotFoundError' });
  }
}

/** Throw a {@link ValidationError} when `issues` is not empty. */
export function throwIfAny(issues: readonly ValidationIssue[]): void {
  if (issues.length) throw new ValidationError(dedupe(issues));
}

/** Drop repeated issues (same path and message), keeping order. */
export function dedupe(issues: readonly ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** Render a path of keys and indexes: `domains[1].routes[0].targetPort`. */
export function joinPath(segments: ReadonlyArray<string | number | symbol>, base = ''): string {
  let out = base;
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'string' && IDENT.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(String(s))}]`;
  }
  return out;
}

/** Prefix every issue's path with `base` (`base.path`, or `base[0]...`). */
export function prefixIssues(base: string, issues: readonly ValidationIssue[]): ValidationIssue[] {
  if (!base) return [...issues];
  return issues.map((i) => ({ ...i, path: !i.path ? base : i.path.startsWith('[') ? base + i.path : `${base}.${i.path}` }));
}

/** Inverse of {@link joinPath}: `domains[1].routes[0]` → `['domains', 1, 'routes', 0]`. */
export function splitPath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(`"${m[2]}"`) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}
