/**
 * Middleware options judged by a real Traefik. `accepts`: the config service takes it and Traefik
 * builds it without error. `refuses`: Traefik cannot build it (the middleware and every router
 * using it are disabled), so the config service must refuse it; the test also hands it to Traefik
 * directly to show Traefik does refuse it. `misreads`: Traefik builds it but does something other
 * than what the row says (or only some supported Traefik versions build it), so it is refused
 * too. `breaksProvider`: a value Traefik cannot even decode, which fails every route of the file
 * provider (not handed to Traefik by the test).
 */
export interface FidelityCase {
  readonly name: string;
  readonly mw: Record<string, unknown>;
  readonly verdict: 'accepts' | 'refuses' | 'misreads' | 'breaksProvider';
  /** Traefik versions (major.minor prefixes) where a `refuses` case is refused; default all. */
  readonly only?: string;
  /** A health check for the route (the case is about it; `mw` is then empty). */
  readonly healthCheck?: Record<string, unknown>;
}

const c = (
  verdict: FidelityCase['verdict'],
  name: string,
  mw: Record<string, unknown>,
  only?: string,
  healthCheck?: Record<string, unknown>,
): FidelityCase => ({ name, mw, verdict, only, healthCheck });

export const FIDELITY_CASES: readonly FidelityCase[] = [
  // Accepted: odd but valid options, each built by Traefik.
  c('accepts', 'headers with awkward values', {
    headers: { customRequestHeaders: { 'X-Q': `it's "q" #: x`, 'X-U': 'é ü 日本', 'X-Empty': '', 'X-T_1.a~': '$1 ${x} {a}' } },
  }),
  c('accepts', 'headers frameDeny only', { headers: { frameDeny: true } }),
  c('accepts', 'headers CORS with Go regexes', {
    headers: {
      accessControlAllowOriginListRegex: ['^https://(.*\\.)?example\\.com$', '(?i)^http://foo$', '(?P<n>a)\\z', '\\Q.*\\E'],
      accessControlMaxAge: 100,
    },
  }),
  c('accepts', 'headers sslProxyHeaders', { headers: { sslProxyHeaders: { 'X-Forwarded-Proto': 'https' } } }),
  c('accepts', 'stripPrefix', { stripPrefix: { prefixes: ['/api', '/x/'] } }),
  c('accepts', 'stripPrefixRegex', { stripPrefixRegex: { regex: ['/[a-z]+/[0-9]+', '\\d{3}'] } }),
  c('accepts', 'replacePathRegex', { replacePathRegex: { regex: '^/foo/(.*)', replacement: '/bar/$1' } }),
  c('accepts', 'redirectRegex with ${1}', {
    redirectRegex: { regex: '^http://([^/]+)/old/(.*)', replacement: 'http://${1}/new/${2}', permanent: true },
  }),
  c('accepts', 'redirectScheme with a port', { redirectScheme: { scheme: 'https', port: '8443', permanent: true } }),
  c('accepts', 'rateLimit by host', { rateLimit: { average: 100, period: '1m', burst: 50, sourceCriterion: { requestHost: true } } }),
  c('accepts', 'rateLimit by header', { rateLimit: { average: 5, sourceCriterion: { requestHeaderName: 'X-User' } } }),
  c('accepts', 'rateLimit by IP strategy', {
    rateLimit: { average: 5, period: 10, sourceCriterion: { ipStrategy: { depth: 1, excludedIPs: ['10.0.0.0/8'] } } },
  }),
  c('accepts', 'ipAllowList v4, v6, CIDR', {
    ipAllowList: { sourceRange: ['127.0.0.1/32', '::1', '10.0.0.0/8', '2001:db8::/32'], rejectStatusCode: 404 },
  }),
  c('accepts', 'basicAuth {SHA} user', {
    basicAuth: { users: ['u:{SHA}qvTGHdzF6KLavt4PO0gs2a6pQ00='], realm: 'é r', headerField: 'X-User', removeHeader: true },
  }),
  c('accepts', 'digestAuth user', { digestAuth: { users: ['u:r:0123456789abcdef0123456789abcdef'] } }),
  c('accepts', 'compress, empty', { compress: {} }),
  c('accepts', 'compress with options', {
    compress: {
      excludedContentTypes: ['text/event-stream', 'application/json; charset=utf-8'],
      minResponseBodyBytes: 10,
      defaultEncoding: 'gzip',
    },
  }),
  c('accepts', 'retry', { retry: { attempts: 3, initialInterval: '100ms' } }),
  c('accepts', 'circuitBreaker with every function', {
    circuitBreaker: {
      expression:
        'NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 100 || (ResponseCodeRatio(500, 600, 0, 600) > 0.25 && NetworkErrorRatio() >= .1)',
      checkPeriod: '10s',
      fallbackDuration: '10s',
      recoveryDuration: '1m',
      responseCode: 503,
    },
  }),
  c('accepts', 'buffering with a retry expression', {
    buffering: {
      maxRequestBodyBytes: 1000000,
      memRequestBodyBytes: 0,
      retryExpression: 'IsNetworkError() && Attempts() < 2 || RequestMethod() == "GET"',
    },
  }),
  c('accepts', 'inFlightReq', { inFlightReq: { amount: 10, sourceCriterion: { ipStrategy: { depth: 2 } } } }),
  c('accepts', 'contentType', { contentType: { autoDetect: false } }),
  c('accepts', 'grpcWeb', { grpcWeb: { allowOrigins: ['*'] } }),
  c('accepts', 'passTLSClientCert', { passTLSClientCert: { pem: true, info: { notAfter: true, subject: { commonName: true } } } }),
  c('accepts', 'addPrefix', { addPrefix: { prefix: '/v1' } }),
  c('accepts', 'replacePath', { replacePath: { path: '/x' } }),
  c('accepts', 'a health check with every option', {}, undefined, {
    path: '/health',
    interval: '10s',
    timeout: '3s',
    scheme: 'http',
    method: 'HEAD',
    hostname: 'health.test',
    port: 8080,
    headers: { 'X-Check': 'yes' },
    followRedirects: false,
  }),
  c('accepts', 'forwardAuth', {
    forwardAuth: {
      address: 'http://127.0.0.1:9/auth',
      trustForwardHeader: true,
      authResponseHeaders: ['X-User'],
      authResponseHeadersRegex: '^X-',
    },
  }),

  // Refused by Traefik when it builds the middleware.
  c('refuses', 'headers with frameDeny false only', { headers: { frameDeny: false } }),
  c('refuses', 'headers with a lookahead origin regex', { headers: { accessControlAllowOriginListRegex: ['^(?=x)'] } }),
  c('refuses', 'addPrefix with an empty prefix', { addPrefix: { prefix: '' } }),
  c('refuses', 'basicAuth user without a colon', { basicAuth: { users: ['nocolon'] } }),
  c('refuses', 'basicAuth user with two colons', { basicAuth: { users: ['a:b:c'] } }),
  c('refuses', 'basicAuth usersFile that Traefik cannot read', { basicAuth: { usersFile: '/nonexistent/htpasswd' } }),
  c('refuses', 'digestAuth user without a realm', { digestAuth: { users: ['u:0123456789abcdef0123456789abcdef'] } }),
  c('refuses', 'buffering with a negative size', { buffering: { maxRequestBodyBytes: -1 } }),
  c('refuses', 'buffering retryExpression comparing with a float', { buffering: { retryExpression: 'Attempts() < 2.5' } }),
  c('refuses', 'buffering retryExpression cut short', { buffering: { retryExpression: 'IsNetworkError(' } }),
  c('refuses', 'circuitBreaker without an expression', { circuitBreaker: { checkPeriod: '1s' } }),
  c('refuses', 'circuitBreaker ratio compared with an int', { circuitBreaker: { expression: 'NetworkErrorRatio() > 1' } }),
  c('refuses', 'circuitBreaker quantile given as an int', { circuitBreaker: { expression: 'LatencyAtQuantileMS(50) > 100' } }),
  c('refuses', 'circuitBreaker with !', { circuitBreaker: { expression: '!(NetworkErrorRatio() > 0.5)' } }),
  c('refuses', 'circuitBreaker with an unknown function', { circuitBreaker: { expression: 'ErrorRate() > 0.5' } }),
  c('refuses', 'circuitBreaker with the literal first', { circuitBreaker: { expression: '0.5 < NetworkErrorRatio()' } }),
  c('refuses', 'compress with included and excluded types', {
    compress: { excludedContentTypes: ['text/plain'], includedContentTypes: ['text/html'] },
  }),
  c('refuses', 'compress with a bad media type', { compress: { excludedContentTypes: ['not a type'] } }),
  c('refuses', 'compress defaultEncoding identity', { compress: { defaultEncoding: 'identity' } }, '3.7'),
  c('refuses', 'forwardAuth with a lookahead regex', {
    forwardAuth: { address: 'http://127.0.0.1:9/', authResponseHeadersRegex: '(?!x)' },
  }),
  c('refuses', 'forwardAuth with a CA file Traefik cannot read', {
    forwardAuth: { address: 'http://127.0.0.1:9/', tls: { ca: '/nonexistent/ca.pem' } },
  }),
  c('refuses', 'ipAllowList without ranges', { ipAllowList: { sourceRange: [] } }),
  c('refuses', 'ipAllowList /33', { ipAllowList: { sourceRange: ['10.0.0.0/33'] } }),
  c('refuses', 'ipAllowList with a leading zero', { ipAllowList: { sourceRange: ['010.0.0.1'] } }),
  c('refuses', 'ipAllowList with a zone', { ipAllowList: { sourceRange: ['fe80::1%eth0'] } }),
  c('refuses', 'ipAllowList with a host name', { ipAllowList: { sourceRange: ['example.com'] } }),
  c('refuses', 'ipAllowList with an unknown status', { ipAllowList: { sourceRange: ['10.0.0.0/8'], rejectStatusCode: 999 } }),
  c('refuses', 'ipAllowList with a bad excluded IP', {
    ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: { excludedIPs: ['nope'] } },
  }),
  c('refuses', 'inFlightReq with two source criteria', {
    inFlightReq: { amount: 1, sourceCriterion: { requestHost: true, requestHeaderName: 'X' } },
  }),
  c('refuses', 'rateLimit with a negative period', { rateLimit: { average: 1, period: '-1s' } }),
  c('refuses', 'rateLimit with IP strategy and host', {
    rateLimit: { average: 1, sourceCriterion: { ipStrategy: { depth: 1 }, requestHost: true } },
  }),
  c('refuses', 'redirectRegex with a lookbehind', { redirectRegex: { regex: '(?<=a)b', replacement: '/' } }),
  c('refuses', 'redirectScheme without a scheme', { redirectScheme: { permanent: true } }),
  c('refuses', 'replacePathRegex with an open group', { replacePathRegex: { regex: '(a', replacement: '/' } }),
  c('refuses', 'retry with 0 attempts', { retry: { attempts: 0 } }),
  c('refuses', 'stripPrefixRegex with an open class', { stripPrefixRegex: { regex: ['[a-'] } }),

  // Built, but not what the row says (or not by every supported Traefik).
  c('misreads', 'header value with a trailing space (HTTP drops it)', { headers: { customRequestHeaders: { 'X-A': 'v ' } } }),
  c('misreads', 'header name with a space (the upstream request fails)', { headers: { customRequestHeaders: { 'X Bad': 'v' } } }),
  c('misreads', 'inFlightReq amount 0 (every request refused)', { inFlightReq: { amount: 0 } }),
  c('misreads', 'rateLimit negative average (no limit at all)', { rateLimit: { average: -1 } }),
  c('misreads', 'addPrefix without a leading slash', { addPrefix: { prefix: 'v1' } }),
  c('misreads', 'compress defaultEncoding zstd (Traefik 3.0 has no zstd)', { compress: { defaultEncoding: 'zstd' } }),
  c('misreads', 'circuitBreaker responseCode 0', { circuitBreaker: { expression: 'NetworkErrorRatio() > 0.5', responseCode: 0 } }),
  c('misreads', 'forwardAuth without an address', { forwardAuth: { trustForwardHeader: true } }),

  c('misreads', 'health check interval 0 (Traefik uses 30s)', {}, undefined, { path: '/health', interval: '0s' }),
  c('misreads', 'health check method with a space', {}, undefined, { path: '/health', method: 'GE T' }),
  c('misreads', 'health check scheme ftp', {}, undefined, { path: '/health', scheme: 'ftp' }),
  c('misreads', 'health check port 70000', {}, undefined, { path: '/health', port: 70000 }),
  c('misreads', 'health check path with a query', {}, undefined, { path: '/health?x=1' }),

  // Fail the whole file provider in some supported Traefik.
  c('breaksProvider', 'headers with nothing set (an empty object)', { headers: {} }),
  c('breaksProvider', 'an empty customRequestHeaders', { headers: { customRequestHeaders: {} } }),
  c('breaksProvider', 'addPrefix without a prefix (an empty object)', { addPrefix: {} }),
  c('breaksProvider', 'grpcWeb with nothing set', { grpcWeb: {} }),
  c('accepts', 'ipAllowList with an empty ipStrategy', { ipAllowList: { sourceRange: ['10.0.0.0/8'], ipStrategy: {} } }),
  c('breaksProvider', 'an empty ipStrategy in a sourceCriterion', { rateLimit: { average: 1, sourceCriterion: { ipStrategy: {} } } }),
  c('breaksProvider', 'an empty sourceCriterion', { rateLimit: { average: 1, sourceCriterion: {} } }),
  c('breaksProvider', 'an empty passTLSClientCert info', { passTLSClientCert: { pem: true, info: {} } }),
  c('breaksProvider', 'an empty health check', {}, undefined, {}),
  c('breaksProvider', 'empty health check headers', {}, undefined, { path: '/health', headers: {} }),
  c('breaksProvider', 'compress encodings (Traefik ≥ 3.1 only)', { compress: { encodings: ['gzip'] } }),
  c('breaksProvider', 'headers contentSecurityPolicyReportOnly (Traefik ≥ 3.4 only)', {
    headers: { contentSecurityPolicyReportOnly: "default-src 'self'" },
  }),
  c('breaksProvider', 'forwardAuth forwardBody (newer than 3.0)', { forwardAuth: { address: 'http://127.0.0.1:9/', forwardBody: true } }),
  c('breaksProvider', 'a duration beyond int64 nanoseconds', { rateLimit: { average: 1, period: '9999999h' } }),
  c('misreads', 'whole seconds beyond int64 nanoseconds (wraps around)', { retry: { attempts: 1, initialInterval: 99999999999 } }),
];
