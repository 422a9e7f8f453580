/**
 * TRAEFIK_STATIC_FILE: operator YAML merged over the generated static config (ACME e-mail and
 * servers, tracing, trusted IPs, other providers…). Maps merge key by key, anything else
 * replaces, and `null` removes a generated key. What traefik-sync's own settings decide (the file
 * provider, the throttle, entry point addresses) cannot be changed here: static.ts checks the
 * merged result against Traefik's static schema and against the settings.
 */
import { parseDocument } from 'yaml';
import { UserError, messageOf, quote } from '../errors.js';
import type { StaticOverlay } from './static-settings.js';

/** The largest overlay file accepted. */
export const MAX_OVERLAY_BYTES = 1 << 20;

type Doc = Record<string, unknown>;

function isMap(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse the file's bytes; throws a UserError naming `setting` and the file. */
export function parseStaticOverlay(bytes: Uint8Array, file: string, setting: string): StaticOverlay {
  const fail = (what: string): never => {
    throw new UserError(`${setting}: ${file}: ${what}`);
  };
  if (bytes.length > MAX_OVERLAY_BYTES) fail(`is ${bytes.length} bytes; at most ${MAX_OVERLAY_BYTES} allowed`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    fail(`is not UTF-8 text: ${messageOf(err)}`);
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    fail(`not valid YAML${at ? ` (line ${at.line}, column ${at.col})` : ''}: ${error.message.split('\n')[0]!.replace(/:\s*$/, '')}`);
  }
  const value: unknown = doc.toJS({ maxAliasCount: 50 });
  if (value === null || value === undefined) return { file, doc: {} };
  if (!isMap(value)) fail(`expected a mapping of static configuration keys (entryPoints, certificatesResolvers, …), got ${quote(value)}`);
  return { file, doc: value as Doc };
}

/** `base` with `overlay` merged over it (a new object; neither input changes). */
export function mergeOverlay(base: Readonly<Doc>, overlay: Readonly<Doc>): Doc {
  const out: Doc = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeOverlay(out[key] as Doc, value);
    else out[key] = value;
  }
  return out;
}
