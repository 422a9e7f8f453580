/**
 * What Traefik checks when it builds each middleware (Traefik 3.0 to 3.7, pkg/middlewares/*),
 * checked before writing: a middleware Traefik cannot build disables every router using it, and
 * an option some supported Traefik does not know fails the whole file provider. Each rule here
 * was seen failing in a real Traefik (test/traefik/fidelity.test.ts).
 */
import { quote } from '../errors.js';
import {
  BUFFERING_RETRY_LANGUAGE,
  CIRCUIT_BREAKER_LANGUAGE,
  GO_STATUS_CODES,
  goDurationNs,
  goRegexProblem,
  ipOrCidrProblem,
  isToken,
  mediaTypeProblem,
  predicateProblem,
} from './go-syntax.js';

type Options = Readonly<Record<string, unknown>>;

/** Options in Traefik's published schema that Traefik 3.0 does not know ("field not found" fails every route of the provider). */
const NEWER_THAN_3_0: Readonly<Record<string, readonly string[]>> = {
  compress: ['encodings'],
  headers: ['contentSecurityPolicyReportOnly'],
  forwardAuth: ['forwardBody', 'maxBodySize', 'maxResponseBodySize', 'headerField', 'preserveLocationHeader', 'preserveRequestMethod'],
};

/** Headers options that make Traefik build the middleware; with none of them it refuses ("headers configuration not valid"). */
const HEADERS_EFFECTIVE = [
  'customRequestHeaders',
  'customResponseHeaders',
  'accessControlAllowCredentials',
  'accessControlAllowHeaders',
  'accessControlAllowMethods',
  'accessControlAllowOriginList',
  'accessControlAllowOriginListRegex',
  'accessControlExposeHeaders',
  'accessControlMaxAge',
  'addVaryHeader',
  'allowedHosts',
  'hostsProxyHeaders',
  'sslRedirect',
  'sslTemporaryRedirect',
  'sslForceHost',
  'sslHost',
  'sslProxyHeaders',
  'stsSeconds',
  'stsIncludeSubdomains',
  'stsPreload',
  'forceSTSHeader',
  'frameDeny',
  'customFrameOptionsValue',
  'contentTypeNosniff',
  'browserXssFilter',
  'customBrowserXSSValue',
  'contentSecurityPolicy',
  'publicKey',
  'referrerPolicy',
  'featurePolicy',
  'permissionsPolicy',
  'isDevelopment',
];

const isSet = (v: unknown) =>
  v !== undefined &&
  v !== null &&
  v !== false &&
  v !== 0 &&
  v !== '' &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
const num = (v: unknown): number | undefined => (v === undefined ? undefined : Number(v));

/** Problems Traefik would have building middleware `type` with `options` (the schema passed). `at` names the options. */
export function middlewareRuleProblems(type: string, options: Options, at: string): string[] {
  const p: string[] = [];
  const bad = (key: string, what: string) => p.push(`${at}.${key}: ${what}`);
  for (const key of NEWER_THAN_3_0[type] ?? []) {
    if (key in options)
      bad(key, 'needs a newer Traefik than 3.0, and a Traefik that does not know an option refuses every route of the file provider');
  }
  const regex = (key: string, v: unknown) => {
    const problem = typeof v === 'string' ? goRegexProblem(v) : null;
    if (problem) bad(key, `${problem}, got ${quote(v)}`);
  };
  const ips = (key: string, list: unknown) =>
    strings(list).forEach((v, i) => {
      const problem = ipOrCidrProblem(v);
      if (problem) bad(`${key}[${i}]`, `${problem}, got ${quote(v)}`);
    });
  const nonNegative = (...keys: string[]) => {
    for (const k of keys)
      if (num(options[k]) !== undefined && num(options[k])! < 0) bad(k, `must not be negative, got ${quote(options[k])}`);
  };
  const durations = (...keys: string[]) => {
    for (const k of keys) {
      if (options[k] === undefined) continue;
      const ns = goDurationNs(options[k]);
      if (ns === null) bad(k, `expected a duration Traefik can hold (at most about 290 years), got ${quote(options[k])}`);
      else if (ns < 0) bad(k, `must not be negative, got ${quote(options[k])}`);
    }
  };
  const criterion = (key: string, c: unknown) => {
    if (!c || typeof c !== 'object') return;
    const sc = c as Options;
    const set = [
      sc.ipStrategy !== undefined && 'ipStrategy',
      isSet(sc.requestHeaderName) && 'requestHeaderName',
      sc.requestHost === true && 'requestHost',
    ].filter(Boolean);
    if (set.length > 1) bad(key, `${set.join(' and ')} are mutually exclusive (Traefik refuses the middleware)`);
    if (typeof sc.requestHeaderName === 'string' && sc.requestHeaderName !== '' && !isToken(sc.requestHeaderName)) {
      bad(`${key}.requestHeaderName`, `expected a header name, got ${quote(sc.requestHeaderName)}`);
    }
    strategy(`${key}.ipStrategy`, sc.ipStrategy);
  };
  const strategy = (key: string, s: unknown) => {
    if (!s || typeof s !== 'object') return;
    ips(`${key}.excludedIPs`, (s as Options).excludedIPs);
  };
  const headerNames = (key: string, map: unknown) => {
    if (!map || typeof map !== 'object') return;
    for (const [name, value] of Object.entries(map)) {
      if (!isToken(name)) bad(`${key}`, `header name ${quote(name)} is not a valid HTTP header name`);
      // HTTP drops spaces around a field value: the receiver would never see them.
      else if (typeof value === 'string' && /^[ \t]|[ \t]$/.test(value))
        bad(`${key}.${name}`, `starts or ends with white space, which HTTP drops, got ${quote(value)}`);
    }
  };

  switch (type) {
    case 'addPrefix':
      if (typeof options.prefix !== 'string' || !options.prefix.startsWith('/'))
        bad('prefix', `expected a path starting with "/", got ${quote(options.prefix)}`);
      break;
    case 'basicAuth':
    case 'digestAuth': {
      const colons = type === 'basicAuth' ? 1 : 2;
      strings(options.users).forEach((u, i) => {
        if (u.split(':').length !== colons + 1) {
          bad(
            `users[${i}]`,
            `expected ${type === 'basicAuth' ? '"name:hash"' : '"name:realm:hash"'} (exactly ${colons} ":"), got ${quote(u.replace(/:.*/, ':…'))}`,
          );
        }
      });
      break;
    }
    case 'buffering':
      nonNegative('maxRequestBodyBytes', 'memRequestBodyBytes', 'maxResponseBodyBytes', 'memResponseBodyBytes');
      if (options.retryExpression !== undefined && options.retryExpression !== '') {
        const problem = predicateProblem(String(options.retryExpression), BUFFERING_RETRY_LANGUAGE);
        if (problem) bad('retryExpression', `${problem}, got ${quote(options.retryExpression)}`);
      }
      break;
    case 'circuitBreaker': {
      const problem = predicateProblem(typeof options.expression === 'string' ? options.expression : '', CIRCUIT_BREAKER_LANGUAGE);
      if (problem) bad('expression', `${problem} (e.g. "NetworkErrorRatio() > 0.5"), got ${quote(options.expression)}`);
      const code = num(options.responseCode);
      if (code !== undefined && !(code >= 100 && code <= 599))
        bad('responseCode', `expected an HTTP status 100–599, got ${quote(options.responseCode)}`);
      durations('checkPeriod', 'fallbackDuration', 'recoveryDuration');
      break;
    }
    case 'compress':
      if (isSet(options.excludedContentTypes) && isSet(options.includedContentTypes)) {
        bad('includedContentTypes', 'cannot be used together with excludedContentTypes');
      }
      for (const key of ['excludedContentTypes', 'includedContentTypes']) {
        strings(options[key]).forEach((v, i) => {
          const problem = mediaTypeProblem(v);
          if (problem) bad(`${key}[${i}]`, `${problem}, got ${quote(v)}`);
        });
      }
      nonNegative('minResponseBodyBytes');
      if (options.defaultEncoding !== undefined && !['gzip', 'br'].includes(String(options.defaultEncoding))) {
        bad('defaultEncoding', `expected "gzip" or "br", got ${quote(options.defaultEncoding)}`);
      }
      break;
    case 'forwardAuth':
      if (typeof options.address !== 'string' || !/^https?:\/\/[^/?#\s]+/.test(options.address)) {
        bad('address', `expected an http:// or https:// URL, got ${quote(options.address)}`);
      }
      regex('authResponseHeadersRegex', options.authResponseHeadersRegex);
      for (const key of ['authResponseHeaders', 'authRequestHeaders', 'addAuthCookiesToResponse']) {
        strings(options[key]).forEach((v, i) => {
          if (!isToken(v)) bad(`${key}[${i}]`, `expected a header or cookie name, got ${quote(v)}`);
        });
      }
      break;
    case 'headers':
      if (!HEADERS_EFFECTIVE.some((k) => isSet(options[k]) && !(k === 'featurePolicy' && options[k] === ''))) {
        p.push(
          `${at}: sets nothing Traefik acts on (e.g. customRequestHeaders, frameDeny: true); Traefik refuses such a headers middleware`,
        );
      }
      headerNames('customRequestHeaders', options.customRequestHeaders);
      headerNames('customResponseHeaders', options.customResponseHeaders);
      headerNames('sslProxyHeaders', options.sslProxyHeaders);
      strings(options.accessControlAllowOriginListRegex).forEach((v, i) => regex(`accessControlAllowOriginListRegex[${i}]`, v));
      nonNegative('stsSeconds', 'accessControlMaxAge');
      break;
    case 'ipAllowList':
      if (strings(options.sourceRange).length === 0) bad('sourceRange', 'must list at least one IP address or CIDR');
      ips('sourceRange', options.sourceRange);
      if (
        options.rejectStatusCode !== undefined &&
        num(options.rejectStatusCode) !== 0 &&
        !GO_STATUS_CODES.has(num(options.rejectStatusCode)!)
      ) {
        bad('rejectStatusCode', `expected an HTTP status code Traefik knows, got ${quote(options.rejectStatusCode)}`);
      }
      strategy('ipStrategy', options.ipStrategy);
      break;
    case 'inFlightReq':
      if (!(num(options.amount)! >= 1)) bad('amount', `expected at least 1 (0 refuses every request), got ${quote(options.amount)}`);
      criterion('sourceCriterion', options.sourceCriterion);
      break;
    case 'rateLimit':
      nonNegative('average', 'burst');
      if (num(options.average) !== undefined && num(options.average)! > 1e9)
        bad('average', `at most 1000000000, got ${quote(options.average)}`);
      durations('period');
      criterion('sourceCriterion', options.sourceCriterion);
      break;
    case 'redirectRegex':
      regex('regex', options.regex);
      if (typeof options.regex !== 'string' || options.regex === '') bad('regex', `required, got ${quote(options.regex)}`);
      break;
    case 'redirectScheme':
      if (typeof options.scheme !== 'string' || !/^[a-z][a-z0-9+.-]*$/.test(options.scheme))
        bad('scheme', `expected a URL scheme like "https", got ${quote(options.scheme)}`);
      if (options.port !== undefined && !/^[0-9]{1,5}$/.test(String(options.port)))
        bad('port', `expected a port number as a string like "443", got ${quote(options.port)}`);
      break;
    case 'replacePath':
      if (typeof options.path !== 'string' || !options.path.startsWith('/'))
        bad('path', `expected a path starting with "/", got ${quote(options.path)}`);
      break;
    case 'replacePathRegex':
      regex('regex', options.regex);
      break;
    case 'retry':
      if (!(num(options.attempts)! >= 1)) bad('attempts', `expected at least 1, got ${quote(options.attempts)}`);
      durations('initialInterval');
      break;
    case 'stripPrefixRegex':
      strings(options.regex).forEach((v, i) => regex(`regex[${i}]`, v));
      break;
  }
  return p;
}

/**
 * Problems with a health check Traefik would take but not run as written (the types passed): it
 * replaces an interval or timeout ≤ 0 with its default, and a request it cannot build (a method
 * that is not a token, another scheme, a path with spaces, a port out of range) marks the server
 * down for good.
 */
export function healthCheckRuleProblems(hc: Options, field: string): string[] {
  const p: string[] = [];
  for (const key of ['interval', 'timeout']) {
    const ns = hc[key] === undefined ? undefined : goDurationNs(hc[key]);
    if (ns !== undefined && ns !== null && ns <= 0) p.push(`${field}.${key}: must be more than 0, got ${quote(hc[key])}`);
  }
  if (hc.method !== undefined && !(typeof hc.method === 'string' && isToken(hc.method)))
    p.push(`${field}.method: expected an HTTP method like "GET", got ${quote(hc.method)}`);
  if (hc.scheme !== undefined && hc.scheme !== 'http' && hc.scheme !== 'https')
    p.push(`${field}.scheme: expected "http" or "https", got ${quote(hc.scheme)}`);
  if (typeof hc.path === 'string' && !/^\/[!-~]*$/.test(hc.path.replace(/[?#].*$/, '')))
    p.push(`${field}.path: expected a URL path without spaces, got ${quote(hc.path)}`);
  if (typeof hc.path === 'string' && /[?#]/.test(hc.path))
    p.push(`${field}.path: may not contain "?" or "#" (Traefik would send them encoded, as part of the path), got ${quote(hc.path)}`);
  const port = num(hc.port);
  if (port !== undefined && !(port >= 1 && port <= 65535)) p.push(`${field}.port: expected 1–65535, got ${quote(hc.port)}`);
  if (hc.hostname !== undefined && !(typeof hc.hostname === 'string' && /^[A-Za-z0-9.-]+$/.test(hc.hostname))) {
    p.push(`${field}.hostname: expected a host name, got ${quote(hc.hostname)}`);
  }
  if (hc.headers && typeof hc.headers === 'object') {
    for (const [name, value] of Object.entries(hc.headers)) {
      if (!isToken(name)) p.push(`${field}.headers: header name ${quote(name)} is not a valid HTTP header name`);
      else if (typeof value === 'string' && /^[ \t]|[ \t]$/.test(value))
        p.push(`${field}.headers.${name}: starts or ends with white space, which HTTP drops, got ${quote(value)}`);
    }
  }
  return p;
}
