/** The middleware chain of a route (route_configs.middleware jsonb): shape rules and v3 types. */
import { quote } from '../errors.js';
import { DNS_LABEL, type MiddlewareSpec } from '../model.js';
import { goDurationNs } from './go-syntax.js';
import { healthCheckRuleProblems, middlewareRuleProblems } from './middleware-rules.js';
import { refProviderProblem } from './providers.js';

/**
 * Traefik v3 HTTP middleware types accepted inline. Left out on purpose: `ipWhiteList` (v2 name;
 * use `ipAllowList`), `chain` and `errors` (they name other objects, which we could not
 * guarantee to resolve), `plugin` (needs static configuration).
 */
export const MIDDLEWARE_TYPES: ReadonlySet<string> = new Set([
  'addPrefix',
  'basicAuth',
  'buffering',
  'circuitBreaker',
  'compress',
  'contentType',
  'digestAuth',
  'forwardAuth',
  'grpcWeb',
  'headers',
  'ipAllowList',
  'inFlightReq',
  'passTLSClientCert',
  'rateLimit',
  'redirectRegex',
  'redirectScheme',
  'replacePath',
  'replacePathRegex',
  'retry',
  'stripPrefix',
  'stripPrefixRegex',
]);

/** `name@provider`, for middlewares defined by another provider (e.g. `auth@kubernetescrd`). */
export const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}@[a-z][a-z0-9]{0,31}$/;

/** One element of a chain, classified. */
export type ChainElement =
  | { readonly kind: 'inline'; readonly type: string; readonly options: Record<string, unknown> }
  | { readonly kind: 'ref'; readonly ref: string }
  | { readonly kind: 'use'; readonly name: string };

/**
 * Classify a chain; problems are returned as messages naming the element
 * (`middleware[1]: ...`), never thrown. With `providers`, a ref must name one of them
 * (render/providers.ts); without, any provider but `file` is taken.
 */
export function parseChain(
  chain: readonly MiddlewareSpec[] | null,
  field = 'middleware',
  providers?: ReadonlySet<string>,
): { elements: ChainElement[]; problems: string[] } {
  const elements: ChainElement[] = [];
  const problems: string[] = [];
  if (chain === null) return { elements, problems };
  if (!Array.isArray(chain)) return { elements, problems: [`${field}: expected an array, got ${quote(chain)}`] };
  chain.forEach((el, i) => {
    const at = `${field}[${i}]`;
    if (typeof el !== 'object' || el === null || Array.isArray(el)) {
      problems.push(`${at}: expected an object like {"headers": {...}}, {"use": "name"} or {"ref": "name@provider"}, got ${quote(el)}`);
      return;
    }
    const keys = Object.keys(el);
    if (keys.length !== 1) {
      problems.push(`${at}: expected exactly one key (one middleware type per element), got ${quote(keys)}`);
      return;
    }
    const type = keys[0]!;
    const value = el[type];
    if (type === 'ref') {
      if (typeof value !== 'string' || !REF_PATTERN.test(value)) {
        problems.push(`${at}.ref: expected "name@provider", got ${quote(value)}`);
      } else if (value.endsWith('@file')) {
        problems.push(
          `${at}.ref: ${quote(value)} refers to the file provider, which traefik-sync owns; define the middleware inline instead`,
        );
      } else {
        const problem = providers ? refProviderProblem(value, providers) : null;
        if (problem) problems.push(`${at}.ref: ${problem}`);
        else elements.push({ kind: 'ref', ref: value });
      }
      return;
    }
    if (type === 'use') {
      // A shared middleware of the project (render/shared.ts checks that it exists).
      if (typeof value !== 'string' || !DNS_LABEL.test(value)) {
        problems.push(`${at}.use: expected the name of one of the project's middlewares, got ${quote(value)}`);
      } else {
        elements.push({ kind: 'use', name: value });
      }
      return;
    }
    if (type === 'ipWhiteList') {
      problems.push(`${at}: "ipWhiteList" is the Traefik v2 name; use "ipAllowList"`);
      return;
    }
    if (!MIDDLEWARE_TYPES.has(type)) {
      problems.push(
        `${at}: unknown or unsupported middleware type ${quote(type)} (supported: ${[...MIDDLEWARE_TYPES].join(', ')}, or "ref")`,
      );
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${at}.${type}: expected an object of options, got ${quote(value)}`);
      return;
    }
    const options = value as Record<string, unknown>;
    const empty = emptyObjectProblems(options, `${at}.${type}`, type);
    if (empty.length) {
      problems.push(...empty);
      return;
    }
    const typed = typeProblems(options, DURATIONS[type] ?? [], INTS[type] ?? [], `${at}.${type}`);
    if (typed.length === 0) typed.push(...middlewareRuleProblems(type, options, `${at}.${type}`));
    if (typed.length) problems.push(...typed);
    else elements.push({ kind: 'inline', type, options });
  });
  return { elements, problems };
}

/** Where Traefik takes an empty object (its `allowEmpty` fields): `compress: {}`, `contentType: {}`, `ipAllowList.ipStrategy: {}`. */
const EMPTY_OK: ReadonlySet<string> = new Set(['compress', 'contentType', 'ipAllowList.ipStrategy']);

/**
 * Traefik refuses an empty object where its type does not allow one ("headers cannot be a
 * standalone element"), and with it the whole file, so every route of the file provider. Empty
 * lists are fine. `key`: where `value` sits, from the middleware type down (`ipAllowList.ipStrategy`).
 */
export function emptyObjectProblems(value: unknown, field: string, key = ''): string[] {
  if (!value || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => emptyObjectProblems(v, `${field}[${i}]`, `${key}[]`));
  const entries = Object.entries(value);
  if (entries.length === 0 && !EMPTY_OK.has(key)) {
    return [`${field}: is an empty object, which Traefik refuses (and with it every route of the file provider); leave it out instead`];
  }
  return entries.flatMap(([k, v]) => emptyObjectProblems(v, `${field}.${k}`, `${key}.${k}`));
}

/**
 * Options Traefik decodes as a duration (Go syntax like "10s", "1m30s", or an integer of seconds)
 * or as an int64. The JSON schema types them as string / number, so "soon" or 1.5 would pass it,
 * and Traefik would then refuse the file — and with it every route of the file provider.
 */
const DURATIONS: Readonly<Record<string, readonly string[]>> = {
  rateLimit: ['period'],
  retry: ['initialInterval'],
  circuitBreaker: ['checkPeriod', 'fallbackDuration', 'recoveryDuration'],
  healthCheck: ['interval', 'timeout'],
};
const INTS: Readonly<Record<string, readonly string[]>> = {
  rateLimit: ['average', 'burst'],
  retry: ['attempts'],
  inFlightReq: ['amount'],
  compress: ['minResponseBodyBytes'],
  buffering: ['maxRequestBodyBytes', 'memRequestBodyBytes', 'maxResponseBodyBytes', 'memResponseBodyBytes'],
  healthCheck: ['port'],
};
const INT_TEXT = /^[-+]?[0-9]{1,18}$/;

function isInt(v: unknown): boolean {
  return (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && INT_TEXT.test(v));
}

function typeProblems(
  options: Readonly<Record<string, unknown>>,
  durations: readonly string[],
  ints: readonly string[],
  at: string,
): string[] {
  const problems: string[] = [];
  for (const k of durations) {
    const v = options[k];
    if (v !== undefined && goDurationNs(v) === null) {
      problems.push(`${at}.${k}: expected a duration like "10s", "500ms" or "1m30s" (or whole seconds), got ${quote(v)}`);
    }
  }
  for (const k of ints) {
    const v = options[k];
    if (v !== undefined && !isInt(v)) problems.push(`${at}.${k}: expected a whole number, got ${quote(v)}`);
  }
  return problems;
}

/** Health-check keys accepted (Traefik ≥ 3.0 `loadBalancer.healthCheck`). */
export const HEALTH_CHECK_KEYS: ReadonlySet<string> = new Set([
  'path',
  'scheme',
  'method',
  'hostname',
  'port',
  'interval',
  'timeout',
  'headers',
  'followRedirects',
]);

/** Problems with a health_check object (unknown keys), as messages naming the key. */
export function checkHealthCheck(hc: Readonly<Record<string, unknown>> | null, field = 'health_check'): string[] {
  if (hc === null) return [];
  if (typeof hc !== 'object' || Array.isArray(hc)) return [`${field}: expected an object, got ${quote(hc)}`];
  const problems: string[] = emptyObjectProblems(hc, field);
  for (const key of Object.keys(hc)) {
    if (!HEALTH_CHECK_KEYS.has(key)) {
      problems.push(`${field}.${key}: unknown health check option (supported: ${[...HEALTH_CHECK_KEYS].join(', ')})`);
    }
  }
  if (hc.path !== undefined && (typeof hc.path !== 'string' || !hc.path.startsWith('/'))) {
    problems.push(`${field}.path: expected a path starting with "/", got ${quote(hc.path)}`);
  }
  const typed = typeProblems(hc, DURATIONS.healthCheck!, INTS.healthCheck!, field);
  problems.push(...(typed.length ? typed : healthCheckRuleProblems(hc, field)));
  return problems;
}

/**
 * C0, DEL and C1 controls, and what go-yaml refuses or reads as a line break (U+2028, U+2029,
 * U+FFFE, U+FFFF; U+0085 is a C1 control).
 */
// eslint-disable-next-line no-control-regex
export const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]/;

/**
 * Problems for strings that cannot reach a file safely, anywhere inside `value` (header values,
 * regexes, URLs…): control characters (HTTP forbids them, and YAML cannot carry every such string
 * through unchanged) and "║", which Traefik's parser uses to join list values (a value holding it
 * would be split in two).
 */
export function controlCharProblems(value: unknown, field: string): string[] {
  if (typeof value === 'string') {
    if (UNSAFE_CHARS.test(value))
      return [`${field}: contains a control character or line separator (e.g. newline, NUL, U+2028), got ${quote(value)}`];
    if (value.includes('║')) return [`${field}: contains "║", which Traefik uses to separate list values, got ${quote(value)}`];
    return [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => controlCharProblems(v, `${field}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      ...controlCharProblems(k, `${field} key`),
      ...controlCharProblems(v, `${field}.${k}`),
    ]);
  }
  return [];
}
