/**
 * The hostile-input corpus of hostile-input.test.ts, by entry point. Each case names why it is
 * hostile; the test decides per case whether it was refused cleanly or rendered safely.
 */

/** A statement (on a database with the fixture's rows) the database itself must refuse cleanly. */
export interface SqlCase {
  readonly why: string;
  /** SQL text with $1… parameters; `:route`, `:domain`, `:project`, `:service` are replaced by ids. */
  readonly text: string;
  readonly params?: readonly unknown[];
  /** SQLSTATE class expected (e.g. '23' integrity, '22' data exception). */
  readonly sqlstate: RegExp;
}

const CHECK = /^23514$/; // check_violation
const DATA = /^22/; // data exception (invalid byte sequence, untranslatable character, …)

export const SQL_REFUSED: readonly SqlCase[] = [
  { why: 'project name ../x (traversal)', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['../x'], sqlstate: CHECK },
  { why: 'project name ..', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['..'], sqlstate: CHECK },
  { why: 'project name a/b', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['a/b'], sqlstate: CHECK },
  { why: 'project name /etc (absolute)', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['/etc'], sqlstate: CHECK },
  { why: 'empty project name', text: 'INSERT INTO projects (name) VALUES ($1)', params: [''], sqlstate: CHECK },
  { why: 'project name with _ (name separator)', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['a_b'], sqlstate: CHECK },
  { why: 'project name with {{', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['{{x}}'], sqlstate: CHECK },
  { why: 'project name with a bidi override', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['a\u202eb'], sqlstate: CHECK },
  { why: 'project name with a NUL byte', text: 'INSERT INTO projects (name) VALUES ($1)', params: ['a\u0000b'], sqlstate: DATA },
  {
    why: 'project name of invalid UTF-8 bytes',
    text: "INSERT INTO projects (name) VALUES (convert_from('\\xc328'::bytea, 'UTF8'))",
    sqlstate: DATA,
  },
  {
    why: 'service name ../../etc',
    text: 'INSERT INTO services (project_id, name) VALUES (:project, $1)',
    params: ['../../etc'],
    sqlstate: CHECK,
  },
  { why: 'service name a/b', text: 'INSERT INTO services (project_id, name) VALUES (:project, $1)', params: ['a/b'], sqlstate: CHECK },
  {
    why: 'service host with a backtick',
    text: 'UPDATE services SET host = $1 WHERE id = :service',
    params: ['evil`.example'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule breaking out of its backticks',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['/a`) || Host(`evil.example`) || PathPrefix(`/'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule with a double quote',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['/a"b'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule with a single quote',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ["/a'b"],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule with {{ .Env }}',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['/{{ env "X" }}'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule with a newline',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['/a\nrule: x'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule with a backslash',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['/a\\b'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule without a leading slash',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: ['../../x'],
    sqlstate: CHECK,
  },
  {
    why: 'path_rule of 2,000 characters',
    text: 'UPDATE route_configs SET path_rule = $1 WHERE id = :route',
    params: [`/${'a'.repeat(2000)}`],
    sqlstate: CHECK,
  },
  {
    why: 'target_url file:///etc/passwd',
    text: 'UPDATE route_configs SET target_url = $1 WHERE id = :route',
    params: ['file:///etc/passwd'],
    sqlstate: CHECK,
  },
  {
    why: 'target_url with a backtick',
    text: 'UPDATE route_configs SET target_url = $1 WHERE id = :route',
    params: ['http://x/`)'],
    sqlstate: CHECK,
  },
  {
    why: 'target_url with {{',
    text: 'UPDATE route_configs SET target_url = $1 WHERE id = :route',
    params: ['http://x/{{.}}'],
    sqlstate: CHECK,
  },
  { why: 'target_port 0', text: 'UPDATE route_configs SET target_port = 0 WHERE id = :route', sqlstate: CHECK },
  { why: 'target_port 70000', text: 'UPDATE route_configs SET target_port = 70000 WHERE id = :route', sqlstate: CHECK },
  {
    why: 'full_domain with a backtick',
    text: 'UPDATE domain_configs SET domain = $1, full_domain = $1 WHERE id = :domain',
    params: ['evil`.example'],
    sqlstate: CHECK,
  },
  {
    why: 'upper-case full_domain',
    text: 'UPDATE domain_configs SET domain = $1, full_domain = $1 WHERE id = :domain',
    params: ['EVIL.example'],
    sqlstate: CHECK,
  },
  {
    why: 'full_domain ../../etc',
    text: 'UPDATE domain_configs SET domain = $1, full_domain = $1 WHERE id = :domain',
    params: ['../../etc'],
    sqlstate: CHECK,
  },
  {
    why: 'ssl_provider with a quote',
    text: 'UPDATE domain_configs SET ssl_provider = $1 WHERE id = :domain',
    params: ['le"x'],
    sqlstate: CHECK,
  },
  {
    why: 'middleware that is not an array',
    text: 'UPDATE route_configs SET middleware = $1::jsonb WHERE id = :route',
    params: ['{"headers":{}}'],
    sqlstate: CHECK,
  },
  {
    why: 'middleware JSON with \\u0000',
    text: 'UPDATE route_configs SET middleware = $1::jsonb WHERE id = :route',
    params: ['[{"headers":{"customRequestHeaders":{"X":"a\\u0000b"}}}]'],
    sqlstate: DATA,
  },
  {
    why: 'middleware JSON with a lone surrogate',
    text: 'UPDATE route_configs SET middleware = $1::jsonb WHERE id = :route',
    params: ['[{"headers":{"customRequestHeaders":{"X":"a\\ud800b"}}}]'],
    sqlstate: DATA,
  },
  {
    why: 'health_check that is an array',
    text: 'UPDATE route_configs SET health_check = $1::jsonb WHERE id = :route',
    params: ['[]'],
    sqlstate: CHECK,
  },
  {
    why: 'certificate PEM with {{',
    text: 'INSERT INTO certificates (domain_config_id, cert_pem, key_pem) VALUES (:domain, $1, $2)',
    params: ['-----BEGIN CERTIFICATE-----\n{{ env "X" }}\n', '-----BEGIN PRIVATE KEY-----\nx\n'],
    sqlstate: CHECK,
  },
  ...['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'OPENSSH PRIVATE KEY', 'PGP PRIVATE KEY BLOCK'].map(
    (armour): SqlCase => ({
      why: `a ${armour} block pasted into cert_pem (it would land in a 0644 .crt file)`,
      text: 'INSERT INTO certificates (domain_config_id, cert_pem, key_pem) VALUES (:domain, $1, $2)',
      params: [
        `-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN ${armour}-----\nMIIE\n-----END ${armour}-----\n`,
        '-----BEGIN PRIVATE KEY-----\nx\n',
      ],
      sqlstate: CHECK,
    }),
  ),
  {
    why: 'a private key copied into traefik_configs.content',
    text: "INSERT INTO traefik_configs (config_type, file_path, content, checksum) VALUES ('key', 'ssl/keys/x.key', $1, $2)",
    params: ['-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n', `sha256:${'0'.repeat(64)}`],
    sqlstate: CHECK,
  },
  {
    why: 'a "key" that is not a private key',
    text: 'INSERT INTO certificates (domain_config_id, cert_pem, key_pem) VALUES (:domain, $1, $2)',
    params: ['-----BEGIN CERTIFICATE-----\nx\n', 'ssh-rsa AAAA'],
    sqlstate: CHECK,
  },
];

/**
 * A middleware chain or health check written straight into route_configs: the database takes it;
 * the controller must render it safely (`render`: the value reaches the file unchanged and
 * inert) or refuse it keeping the last good files (`refuse`); `either` when both are fine.
 */
export interface RowCase {
  readonly why: string;
  readonly middleware?: unknown[];
  readonly healthCheck?: Record<string, unknown>;
  /** route_configs.target_url (null when not given). */
  readonly targetUrl?: string;
  /** services.host of the route's service (null when not given). */
  readonly serviceHost?: string;
  readonly expect: 'render' | 'refuse' | 'either';
  /** Strings that must come back exactly from the parsed file when rendered. */
  readonly values?: readonly string[];
  /** Set when the case currently fails: where and how (the test keeps it as it.fails). */
  readonly bug?: string;
}

const header = (v: string): unknown[] => [{ headers: { customRequestHeaders: { 'X-Test': v } } }];

const RENDER_VALUES: ReadonlyArray<[string, string]> = [
  ['Go template reading the environment', '{{ env "DATABASE_URL" }}'],
  ['closing then opening delimiters', '}}{{'],
  ['a run of five opening braces', '{{{{{'],
  ['text that looks like our own escape', '{{"{{"}}'],
  ['a template comment with trim markers', '{{- /* x */ -}}'],
  ['a template calling a template', '{{template "x" .}}{{define "x"}}boom{{end}}'],
  ['backticks trying to close a rule', '`) || Host(`evil.example`) || Host(`x'],
  ['quotes and backslashes', `" ' \\ \\" \\\\ "" ''`],
  ['YAML indicators', ': # - & * ! | > % @ , [ ] { } ? ~'],
  ['YAML anchors, aliases and tags', '&a *a !!python/object/apply:os.system ["id"] !<tag:yaml.org,2002:str>'],
  ['a document marker and directive', '--- ... %YAML 1.1'],
  ['a YAML boolean/null lookalike', 'no'],
  ['a YAML number lookalike', '0x1F'],
  ['byte-order mark', '\ufeffbom'],
  ['bidi override', 'abc\u202egnp.exe'],
  ['emoji and CJK', '😀 漢字 \u{10FFFF}'],
  ['shell metacharacters', '${DATABASE_URL} $(id) `id`; rm -rf / #'],
  ['200 KB value', 'x'.repeat(200_000)],
];

export const ROW_CASES: readonly RowCase[] = [
  ...RENDER_VALUES.map(([why, v]): RowCase => ({ why: `header value: ${why}`, middleware: header(v), expect: 'render', values: [v] })),
  {
    why: 'header NAME with {{ env }}',
    middleware: [{ headers: { customRequestHeaders: { '{{ env "X" }}': 'v' } } }],
    expect: 'either',
    values: ['{{ env "X" }}'],
  },
  {
    why: 'regex with {{2}} repetition',
    middleware: [{ redirectRegex: { regex: '^http://(.*){{2}}$', replacement: 'https://${1}}}' } }],
    expect: 'render',
    values: ['^http://(.*){{2}}$', 'https://${1}}}'],
  },
  {
    why: 'basicAuth user ending in }}',
    middleware: [{ basicAuth: { users: ['u:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/}}'] } }],
    expect: 'render',
    values: ['u:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/}}'],
  },
  {
    why: 'replacePathRegex replacement with }}{{',
    middleware: [{ replacePathRegex: { regex: '^/(.*)', replacement: '/$1}}{{' } }],
    expect: 'render',
    values: ['/$1}}{{'],
  },
  {
    why: 'health-check header with {{ env }}',
    healthCheck: { path: '/h', headers: { 'X-H': '{{ env "KEY" }}' } },
    expect: 'render',
    values: ['{{ env "KEY" }}'],
  },
  { why: 'health-check path with {{.}}', healthCheck: { path: '/{{.}}' }, expect: 'either', values: ['/{{.}}'] },
  { why: 'header value with a newline (header injection)', middleware: header('a\r\nX-Injected: 1'), expect: 'refuse' },
  { why: 'header value with a newline and YAML', middleware: header('x\nhttp:\n  routers: {}'), expect: 'refuse' },
  { why: 'header value with ESC (terminal escape)', middleware: header('\u001b[31mred'), expect: 'refuse' },
  { why: 'header value with DEL', middleware: header('a\u007fb'), expect: 'refuse' },
  // go-yaml (Traefik) reads these as line breaks: the value would be split or the file refused.
  { why: 'header value with a Unicode line separator', middleware: header('a\u2028b\u2029c'), expect: 'refuse' },
  { why: 'header value with NEL (C1 line break in YAML 1.1)', middleware: header('a\u0085b'), expect: 'refuse' },
  {
    why: 'Traefik list separator ║ in a map value (refused everywhere, like the config service does)',
    middleware: header('a║b'),
    expect: 'refuse',
  },
  { why: 'header name with a newline', middleware: [{ headers: { customRequestHeaders: { 'X-A\nX-B': 'v' } } }], expect: 'refuse' },
  { why: 'ref into the file provider', middleware: [{ ref: 'other_mw@file' }], expect: 'refuse' },
  { why: 'ref with traversal', middleware: [{ ref: '../../etc@kubernetescrd' }], expect: 'refuse' },
  { why: 'ref with {{', middleware: [{ ref: '{{x}}@docker' }], expect: 'refuse' },
  { why: 'plugin middleware (needs static config)', middleware: [{ plugin: { evil: {} } }], expect: 'refuse' },
  { why: 'v2 ipWhiteList', middleware: [{ ipWhiteList: { sourceRange: ['0.0.0.0/0'] } }], expect: 'refuse' },
  { why: 'two types in one element', middleware: [{ headers: {}, compress: {} }], expect: 'refuse' },
  { why: 'unknown option (schema)', middleware: [{ stripPrefix: { prefixes: ['/a'], exec: 'id' } }], expect: 'refuse' },
  {
    why: 'a __proto__ key',
    middleware: [JSON.parse('{"headers":{"__proto__":{"customRequestHeaders":{"X":"polluted"}}}}')],
    expect: 'either',
  },
  { why: 'unknown health-check option', healthCheck: { path: '/h', command: 'id' }, expect: 'refuse' },
  { why: 'health-check path without a slash', healthCheck: { path: '../../etc/passwd' }, expect: 'refuse' },
  {
    why: 'Traefik list separator ║ inside a list element (ipAllowList sourceRange)',
    middleware: [{ ipAllowList: { sourceRange: ['10.0.0.0/8║0.0.0.0/0'] } }],
    expect: 'refuse',
  },
  {
    why: 'Traefik list separator ║ inside a list element (stripPrefix prefixes)',
    middleware: [{ stripPrefix: { prefixes: ['/api║/'] } }],
    expect: 'refuse',
  },
  // Addresses that reach the pod itself or the metadata service (Traefik shares the pod's network).
  ...[
    'http://127.0.0.1:9090',
    'http://2130706433:9090',
    'http://0x7f.1:9090',
    'http://0177.0.0.1:9090',
    'http://[::1]:9090',
    'http://[::ffff:127.0.0.1]:9090',
    'http://0.0.0.0:9090',
    'http://169.254.169.254/latest/meta-data/',
    'http://localhost:9090',
    'http://x@127.0.0.1:9090',
  ].map((url): RowCase => ({ why: `target_url ${url}`, targetUrl: url, expect: 'refuse' })),
  ...['127.0.0.1', 'localhost', '169.254.169.254', '0x7f000001', '0'].map((host): RowCase => ({
    why: `service host ${host}`,
    serviceHost: host,
    expect: 'refuse',
  })),
  {
    why: 'target_url outside the pod',
    targetUrl: 'http://backend.example:8080',
    expect: 'render',
    values: ['http://backend.example:8080'],
  },
  {
    why: 'forwardAuth to the sidecar',
    middleware: [{ forwardAuth: { address: 'http://127.0.0.1:9090/api/v1/status' } }],
    expect: 'refuse',
  },
  {
    why: 'basicAuth usersFile (a key of another project)',
    middleware: [{ basicAuth: { usersFile: '/app/traefik-configs/ssl/keys/shop.key' } }],
    expect: 'refuse',
  },
  { why: 'digestAuth usersFile', middleware: [{ digestAuth: { usersFile: '/etc/passwd' } }], expect: 'refuse' },
  {
    why: 'forwardAuth tls key of another project',
    middleware: [
      { forwardAuth: { address: 'https://auth.example', tls: { key: '/app/traefik-configs/ssl/keys/secure.shop.example.key' } } },
    ],
    expect: 'refuse',
  },
  {
    why: 'a chain of 500 middlewares',
    middleware: Array.from({ length: 500 }, (_, i) => ({ headers: { customRequestHeaders: { [`X-${i}`]: `${i}` } } })),
    expect: 'either',
  },
  {
    why: 'options nested 100 levels deep',
    middleware: [
      {
        headers: (() => {
          let v: unknown = 'x';
          for (let i = 0; i < 100; i++) v = { a: v };
          return v;
        })(),
      },
    ],
    expect: 'either',
  },
];

/** Flags and environment for the CLI: each must stop with one clean line and a non-zero exit. */
export interface FlagCase {
  readonly why: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Text the error line must contain. */
  readonly says: RegExp;
  /** Set when the case currently fails: where and how (the test keeps it as it.fails). */
  readonly bug?: string;
}

export const FLAG_CASES: readonly FlagCase[] = [
  { why: 'interval with a shell command', args: ['sync', '--once', '--interval', '30s; rm -rf /'], says: /--interval/ },
  { why: 'interval too short', args: ['sync', '--once', '--interval', '1ms'], says: /at least 1s/ },
  {
    why: 'negative interval',
    args: ['sync', '--once', '--interval', '-1s'],
    says: /--interval/,
  },
  { why: 'interval via env, garbage', args: ['sync', '--once'], env: { SYNC_INTERVAL: '{{ env "X" }}' }, says: /SYNC_INTERVAL/ },
  { why: 'delete fraction above 1', args: ['sync', '--once', '--max-delete-fraction', '2'], says: /--max-delete-fraction/ },
  { why: 'delete fraction NaN', args: ['sync', '--once'], env: { MAX_DELETE_FRACTION: 'NaN' }, says: /MAX_DELETE_FRACTION/ },
  { why: 'delete fraction in hex', args: ['sync', '--once', '--max-delete-fraction', '0x1'], says: /--max-delete-fraction/ },
  { why: 'drift mode with a newline', args: ['sync', '--once', '--drift-mode', 'repair\nreport'], says: /--drift-mode/ },
  { why: 'drift mode in upper case (env)', args: ['sync', '--once'], env: { DRIFT_MODE: 'REPAIR' }, says: /DRIFT_MODE/ },
  { why: 'http address with a huge port', args: ['run', '--http-addr', '0.0.0.0:99999'], says: /--http-addr/ },
  { why: 'http address with trailing text', args: ['run', '--http-addr', '127.0.0.1:80 evil'], says: /--http-addr/ },
  { why: 'log level with injection', args: ['sync', '--once', '--log-level', 'debug;id'], says: /--log-level/ },
  { why: 'database URL of another scheme', args: ['sync', '--once', '--database-url', 'mysql://root:hunter2@db/x'], says: /postgres:\/\// },
  {
    why: 'database URL that is not a URL',
    args: ['sync', '--once'],
    env: { DATABASE_URL: 'host=db password=hunter2' },
    says: /DATABASE_URL/,
  },
  { why: 'unknown flag', args: ['sync', '--once', '--exec', 'id'], says: /exec/ },
  { why: 'unknown command with traversal', args: ['../../bin/sh'], says: /unknown command/ },
  { why: 'sync without --once', args: ['sync'], says: /--once is required/ },
  {
    why: 'allowed internal targets with a path',
    args: ['sync', '--once', '--allowed-internal-targets', '127.0.0.1:8081/admin'],
    says: /--allowed-internal-targets \(ALLOWED_INTERNAL_TARGETS\): "127.0.0.1:8081\/admin" is not a host/,
  },
  {
    why: 'allowed internal targets with a bad port (env)',
    args: ['sync', '--once'],
    env: { ALLOWED_INTERNAL_TARGETS: 'localhost:99999' },
    says: /ALLOWED_INTERNAL_TARGETS/,
  },
  { why: 'API allowed hosts with a space', args: ['sync', '--once', '--api-allowed-hosts', 'a b'], says: /--api-allowed-hosts/ },
  {
    why: 'API token file that does not exist',
    args: ['run', '--api-token-file', '/nonexistent/token', '--http-addr', '127.0.0.1:0'],
    says: /--api-token-file \(API_TOKEN_FILE\): cannot read/,
  },
  {
    why: 'database URL file that does not exist',
    args: ['sync', '--once'],
    env: { DATABASE_URL: '', DATABASE_URL_FILE: '/nonexistent/url' },
    says: /DATABASE_URL_FILE/,
  },
];

/** Query values for the read-only file API (already percent-encoded as sent on the wire). */
export interface HttpCase {
  readonly why: string;
  readonly target: string;
  readonly status: readonly number[];
}

export const HTTP_CASES: readonly HttpCase[] = [
  { why: 'climb to the canary', target: '/api/v1/files/content?path=../canary.txt', status: [400] },
  { why: 'encoded climb to the canary', target: '/api/v1/files/content?path=%2e%2e%2fcanary.txt', status: [400] },
  { why: 'doubly encoded climb', target: '/api/v1/files/download?path=%252e%252e%252fcanary.txt', status: [400] },
  { why: 'absolute path to the canary', target: '/api/v1/files/content?path=%2F{CANARY}', status: [400] },
  { why: 'symlink in dynamic/ to the canary', target: '/api/v1/files/content?path=dynamic/evil-link.yml', status: [400] },
  { why: 'directory symlink out of the root', target: '/api/v1/files?path=dynamic/out-dir', status: [400] },
  { why: 'download through the directory symlink', target: '/api/v1/files/download?path=dynamic/out-dir/canary.txt', status: [400] },
  { why: 'diff of the canary via ..', target: '/api/v1/diff?path=dynamic/../../canary.txt', status: [400] },
  { why: 'a private key', target: '/api/v1/files/content?path=ssl/keys/secure.shop.example.key', status: [403] },
  { why: 'a private key, download', target: '/api/v1/files/download?path=ssl/keys/secure.shop.example.key', status: [403] },
  { why: 'a private key, diff', target: '/api/v1/diff?path=ssl/keys/secure.shop.example.key', status: [403] },
  {
    why: 'a private key via ssl/certs/..',
    target: '/api/v1/files/content?path=ssl/certs/../keys/secure.shop.example.key',
    status: [400, 403],
  },
  { why: 'project tree of a traversal name', target: '/api/v1/files?project=../..', status: [400, 404] },
  { why: 'a 64 KB query string', target: `/api/v1/files/content?path=${'a/'.repeat(32_000)}`, status: [400, 414, 431] },
  { why: 'NUL in the path', target: '/api/v1/files/content?path=static/traefik.yml%00../../canary.txt', status: [400] },
  { why: 'URL path traversal', target: '/api/v1/files/../../../canary.txt', status: [404] },
];
