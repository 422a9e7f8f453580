/**
 * A fast path for the `yaml` library's block output, for the plain documents the renderer builds
 * (maps, lists, integers, booleans, null, strings that need no quoting). It returns exactly what
 * `yaml.stringify(value, { sortMapEntries: true, aliasDuplicateObjects: false, lineWidth: 0,
 * minContentWidth: 0 })` returns, or undefined when the value holds anything it does not handle
 * with certainty (a string that would need quotes, a float, a list directly in a list…), and the
 * caller then uses the library. test/render/fast-yaml.test.ts checks the equality on generated
 * documents. Why: the library builds a node tree per document, and at 50,000 files that tree
 * was two thirds of the render time.
 */

/** Strings YAML 1.2 (core schema) reads as null, a boolean or a number: the library quotes them. */
const CORE_NOT_A_STRING =
  /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
/** …and YAML 1.1 booleans, which the library may or may not quote: left to it. */
const NOT_A_STRING = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/**
 * Strings Traefik's YAML parser (go-yaml v3) reads as something else although YAML 1.2 does not:
 * the merge key `<<`, and integers with `_` separators or a 0b/0o/0x prefix (it strips `_` and
 * parses with base 0). serialize.ts double-quotes them; here they are left to that path.
 */
export const GO_NOT_A_STRING = /^(?:<<|[-+]?[0-9][0-9A-Za-z_.]*_[0-9A-Za-z_.]*|[-+]?0[bBoOxX][0-9A-Fa-f_]*)$/;

/** YAML allows an implicit (one-line) key of at most 1024 characters; longer ones need `? `. */
const MAX_IMPLICIT_KEY = 1024;

/** Characters a plain scalar may hold here; the first may not be an indicator or a space. */
const PLAIN = /^[A-Za-z0-9_./(][A-Za-z0-9_./@`()&|=!$^*+?<>~%,;:'" -]*$/;

/** True when the library would write `s` as a plain (unquoted) scalar. */
function isPlain(s: string): boolean {
  return (
    PLAIN.test(s) &&
    !CORE_NOT_A_STRING.test(s) &&
    !NOT_A_STRING.test(s) &&
    !s.includes(': ') &&
    !s.includes(' #') &&
    !s.endsWith(':') &&
    !s.endsWith(' ')
  );
}

const FAIL = Symbol('unsupported');

function scalar(v: unknown): string | typeof FAIL {
  if (typeof v === 'string') {
    if (GO_NOT_A_STRING.test(v)) return FAIL;
    if (isPlain(v)) return v;
    // A string that reads as another type ("1", "true", ""): the library double-quotes it.
    if (/^[A-Za-z0-9.+~-]*$/.test(v) && (v === '' || CORE_NOT_A_STRING.test(v))) return `"${v}"`;
    return FAIL;
  }
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? String(v) : FAIL;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === null) return 'null';
  return FAIL;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Lines for a map's entries at `indent` (the first line without its indentation when `inline`). */
function mapLines(obj: Record<string, unknown>, indent: string, out: string[], inline: boolean): boolean {
  const keys = Object.keys(obj).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [i, key] of keys.entries()) {
    const k = key.length > MAX_IMPLICIT_KEY ? FAIL : scalar(key);
    const v = obj[key];
    if (k === FAIL || typeof k !== 'string' || v === undefined) return false;
    const lead = inline && i === 0 ? '' : indent;
    if (!entry(`${lead}${k}:`, v, indent, out)) return false;
  }
  return true;
}

/** One `key:` line (or `- ` line) and its value, nested below at `indent` + 2. */
function entry(prefix: string, v: unknown, indent: string, out: string[]): boolean {
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push(`${prefix} []`);
      return true;
    }
    out.push(prefix);
    return seqLines(v, `${indent}  `, out);
  }
  if (isPlainObject(v)) {
    if (Object.keys(v).length === 0) {
      out.push(`${prefix} {}`);
      return true;
    }
    out.push(prefix);
    return mapLines(v, `${indent}  `, out, false);
  }
  const s = scalar(v);
  if (s === FAIL) return false;
  out.push(`${prefix} ${s}`);
  return true;
}

function seqLines(items: readonly unknown[], indent: string, out: string[]): boolean {
  for (const item of items) {
    if (Array.isArray(item)) return false;
    if (isPlainObject(item)) {
      if (Object.keys(item).length === 0) {
        out.push(`${indent}- {}`);
        continue;
      }
      // The first entry shares the dash's line; the rest align under it.
      const start = out.length;
      if (!mapLines(item, `${indent}  `, out, true)) return false;
      out[start] = `${indent}- ${out[start]}`;
      continue;
    }
    const s = scalar(item);
    if (s === FAIL) return false;
    out.push(`${indent}- ${s}`);
  }
  return true;
}

/** The library's text for a top-level map, or undefined when the library must be used. */
export function fastYaml(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  if (Object.keys(value).length === 0) return '{}\n';
  const out: string[] = [];
  return mapLines(value, '', out, false) ? `${out.join('\n')}\n` : undefined;
}
