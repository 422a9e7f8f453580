/**
 * Row changes for people and for API callers: labels, changed fields, and certificates shown by
 * fingerprint — key material is replaced before anything leaves the service.
 */
import { quote } from '../errors.js';
import type { RowChange } from './diff.js';
import { fingerprintOf } from './pem.js';

/** A row change without key material. */
export interface ChangeView {
  readonly op: RowChange['op'];
  readonly table: RowChange['table'];
  readonly id: string;
  readonly label: string;
  readonly fields: ReadonlyArray<{ readonly column: string; readonly before: unknown; readonly after: unknown }>;
}

/** Show a column's value: certificates by fingerprint, keys never. */
export function safeValue(column: string, value: unknown): unknown {
  if (column === 'key_pem') return value === null || value === undefined ? value : '(private key)';
  if (column === 'cert_pem' && typeof value === 'string') return `(certificate ${fingerprintOf(value) ?? 'unparseable'})`;
  if ((column === 'transport' || column === 'tls_options') && value && typeof value === 'object') return pemByFingerprint(value);
  return value;
}

/** A JSON value with every PEM certificate string shown by its fingerprint (CAs and client certificates). */
function pemByFingerprint(v: unknown): unknown {
  if (typeof v === 'string' && v.includes('-----BEGIN ')) return `(certificate ${fingerprintOf(v) ?? 'unparseable'})`;
  if (Array.isArray(v)) return v.map(pemByFingerprint);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, pemByFingerprint(x)]));
  return v;
}

/** A change as returned by the API: no key material. */
export function viewChange(c: RowChange): ChangeView {
  return {
    op: c.op,
    table: c.table,
    id: c.id,
    label: c.label,
    fields: c.fields.map((f) => ({ column: f.column, before: safeValue(f.column, f.before), after: safeValue(f.column, f.after) })),
  };
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string' && v.startsWith('(')) return v;
  return quote(v instanceof Date ? v.toISOString() : v, 60);
}

/** One line: `update route shop.example/api → api: target_port 3000 → 3001`. */
export function changeLine(c: ChangeView): string {
  const fields = c.fields.filter((f) => f.column !== 'not_after');
  const detail = fields.length ? `: ${fields.map((f) => `${f.column} ${show(f.before)} → ${show(f.after)}`).join(', ')}` : '';
  return `${c.op} ${c.label}${detail}`;
}

/** `2 created, 1 updated, 0 deleted` (projects included). */
export function countLine(changes: readonly ChangeView[]): string {
  const n = (op: RowChange['op']) => changes.filter((c) => c.op === op).length;
  return `${n('create')} created, ${n('update')} updated, ${n('delete')} deleted`;
}

/** What `apply` did (or, with `dryRun`, would do) to one project. */
export interface ApplyResult {
  readonly project: string;
  readonly projectId: string;
  readonly projectCreated: boolean;
  readonly dryRun: boolean;
  /** Row changes (no key material); empty when the database already matches. */
  readonly changes: ChangeView[];
  /** Things the operator must know although they are allowed (a transport that skips verification). */
  readonly warnings?: string[];
}

/** Options of applying several projects at once (`import`). */
export interface ApplyOptions {
  readonly dryRun?: boolean;
  /** Called before each project is written and once at the end (done = total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What a rollback did (or would do). */
export interface RollbackResult extends ApplyResult {
  readonly point: { readonly id: number; readonly at: Date };
  readonly notes: string[];
}
