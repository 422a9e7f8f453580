/**
 * Settings: flags, else environment, else defaults (docs/contract.md §3) → one frozen, validated Config.
 * Nothing else reads process.env. Bad values stop the start with a message naming the setting
 * and quoting the value.
 */
import { readFileSync } from 'node:fs';
import { canonicalHost, parseInternalTargets, type InternalTarget } from './address.js';
import { UserError, messageOf, quote } from './errors.js';
import { passwordOf, registerSecret } from './redact.js';
import type { LogLevel } from './log.js';
import { checkStaticSettings } from './render/static.js';
import { parseStaticOverlay } from './render/static-overlay.js';
import { enabledProviders, parseExtraProviders } from './render/providers.js';
import {
  DEFAULT_API_ADDRESS,
  DEFAULT_ENTRY_POINTS,
  DEFAULT_THROTTLE,
  parseApiAddress,
  parseEntryPoints,
  type StaticOverlay,
  type StaticSettings,
} from './render/static-settings.js';

/** What the controller does about drift: rewrite the files, or only detect and report. */
export type DriftMode = 'repair' | 'report';

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly configDir: string;
  /** Periodic full resync interval (jitter is added by the controller). */
  readonly intervalMs: number;
  readonly driftMode: DriftMode;
  readonly maxDeleteFraction: number;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  readonly podName: string | undefined;
  readonly podNamespace: string | undefined;
  /** Session connection (LISTEN, the leader's advisory lock); defaults to databaseUrl. */
  readonly listenDatabaseUrl: string | undefined;
  /** Connections the pool may open (queries go through it; the session connection is one more). */
  readonly dbPoolSize: number;
  /** The shard whose projects this sidecar renders; null = every project, whatever its shard. */
  readonly shard: string | null;
  /** How long the old shard keeps a moved project's files after the new shard wrote them. */
  readonly shardDrainMs: number;
  /** How long the old shard waits for the new one to write a moved project before removing it anyway (reported). */
  readonly shardHandoffTimeoutMs: number;
  /** What the generated static/traefik.yml is made of (entry points, API, throttle, overlay). */
  readonly traefikStatic: StaticSettings;
  /** Where Traefik's API answers (`http://127.0.0.1:8080`); undefined = not read. */
  readonly traefikApiUrl: string | undefined;
  /**
   * Providers a middleware `ref` may name: `internal`, `file`, those TRAEFIK_STATIC_FILE enables
   * and TRAEFIK_EXTRA_PROVIDERS (render/providers.ts).
   */
  readonly traefikProviders: ReadonlySet<string>;
  /** The pod's IP (POD_IP, downward API): a Host the API accepts. */
  readonly podIp: string | undefined;
  /** Where the database URL is read from when none is given (DATABASE_URL_FILE). */
  readonly databaseUrlFile: string | undefined;
  /** File holding the bearer token of the file API and the operator page (API_TOKEN_FILE). */
  readonly apiTokenFile: string | undefined;
  /** More Host header values the API and the page accept (canonical; see src/observability/access.ts). */
  readonly apiAllowedHosts: readonly string[];
  /** Upstreams at internal addresses allowed anyway (ALLOWED_INTERNAL_TARGETS; see src/address.ts). */
  readonly allowedInternalTargets: readonly InternalTarget[];
  /** Things the user should fix that do not stop the start (printed or logged once). */
  readonly warnings: readonly string[];
}

/** One setting: its flag, environment variable and default. */
interface Setting {
  readonly flag: string;
  readonly env?: string;
  readonly def?: string;
}

export const SETTINGS = {
  databaseUrl: { flag: 'database-url', env: 'DATABASE_URL' },
  configDir: { flag: 'config-dir', env: 'TRAEFIK_CONFIG_DIR', def: '/app/traefik-configs' },
  interval: { flag: 'interval', env: 'SYNC_INTERVAL', def: '30s' },
  driftMode: { flag: 'drift-mode', env: 'DRIFT_MODE', def: 'repair' },
  maxDeleteFraction: { flag: 'max-delete-fraction', env: 'MAX_DELETE_FRACTION', def: '0.5' },
  httpAddr: { flag: 'http-addr', env: 'HTTP_ADDR', def: '0.0.0.0:9090' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', def: 'info' },
  listenDatabaseUrl: { flag: 'listen-database-url', env: 'LISTEN_DATABASE_URL' },
  dbPoolSize: { flag: 'db-pool-size', env: 'DB_POOL_SIZE', def: '4' },
  shard: { flag: 'shard', env: 'SHARD' },
  shardDrain: { flag: 'shard-drain', env: 'SHARD_DRAIN', def: '30s' },
  shardHandoffTimeout: { flag: 'shard-handoff-timeout', env: 'SHARD_HANDOFF_TIMEOUT', def: '10m' },
  traefikApiUrl: { flag: 'traefik-api-url', env: 'TRAEFIK_API_URL' },
  traefikApiAddr: { flag: 'traefik-api-addr', env: 'TRAEFIK_API_ADDR', def: DEFAULT_API_ADDRESS },
  traefikEntryPoints: { flag: 'traefik-entrypoints', env: 'TRAEFIK_ENTRYPOINTS', def: DEFAULT_ENTRY_POINTS },
  traefikThrottle: { flag: 'traefik-throttle', env: 'TRAEFIK_THROTTLE', def: DEFAULT_THROTTLE },
  traefikStaticFile: { flag: 'traefik-static-file', env: 'TRAEFIK_STATIC_FILE' },
  traefikExtraProviders: { flag: 'traefik-extra-providers', env: 'TRAEFIK_EXTRA_PROVIDERS' },
  databaseUrlFile: { flag: 'database-url-file', env: 'DATABASE_URL_FILE' },
  apiTokenFile: { flag: 'api-token-file', env: 'API_TOKEN_FILE' },
  apiAllowedHosts: { flag: 'api-allowed-hosts', env: 'API_ALLOWED_HOSTS' },
  allowedInternalTargets: { flag: 'allowed-internal-targets', env: 'ALLOWED_INTERNAL_TARGETS' },
} as const satisfies Record<string, Setting>;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse a Go-style duration ("500ms", "30s", "1m30s"); throws naming `name` on bad input. */
export function parseDuration(value: string, name: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(value)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (value === '' || consumed !== value.length) {
    throw new UserError(`${name}: expected a duration like "30s", "500ms" or "1m30s", got ${quote(value)}`);
  }
  return total;
}

function isPostgresUrl(text: string): boolean {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

/** How messages name a setting: `--interval (SYNC_INTERVAL)`. */
export function settingName(s: Setting): string {
  return s.env ? `--${s.flag} (${s.env})` : `--${s.flag}`;
}

/** The accepted log levels, in order; the LOG_LEVEL message lists exactly these. */
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Build the Config from parsed flag values and the environment.
 * `flags` maps flag names (e.g. "config-dir") to values given on the command line.
 */
export function loadConfig(flags: Readonly<Record<string, string | undefined>>, env: Readonly<Record<string, string | undefined>>): Config {
  const get = (s: Setting): string | undefined => {
    const v = flags[s.flag] ?? (s.env ? env[s.env] : undefined);
    return v === undefined || v === '' ? s.def : v;
  };
  const interval = get(SETTINGS.interval)!;
  const intervalMs = parseDuration(interval, settingName(SETTINGS.interval));
  if (intervalMs < 1000) throw new UserError(`${settingName(SETTINGS.interval)}: must be at least 1s, got ${quote(interval)}`);

  const driftMode = get(SETTINGS.driftMode)!;
  if (driftMode !== 'repair' && driftMode !== 'report') {
    throw new UserError(`${settingName(SETTINGS.driftMode)}: expected "repair" or "report", got ${quote(driftMode)}`);
  }

  const fractionText = get(SETTINGS.maxDeleteFraction)!;
  const fraction = Number(fractionText);
  if (!/^\d*\.?\d+$/.test(fractionText) || !(fraction >= 0 && fraction <= 1)) {
    throw new UserError(`${settingName(SETTINGS.maxDeleteFraction)}: expected a number from 0 to 1, got ${quote(fractionText)}`);
  }

  const addr = get(SETTINGS.httpAddr)!;
  const am = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(addr);
  const port = am ? Number(am[2]) : NaN;
  if (!am || port > 65535) {
    throw new UserError(`${settingName(SETTINGS.httpAddr)}: expected host:port like "0.0.0.0:9090", got ${quote(addr)}`);
  }

  const logLevel = get(SETTINGS.logLevel)!;
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new UserError(`${settingName(SETTINGS.logLevel)}: expected one of ${LOG_LEVELS.join(', ')}, got ${quote(logLevel)}`);
  }

  const configDir = get(SETTINGS.configDir)!;
  if (configDir.includes('\0')) throw new UserError(`${settingName(SETTINGS.configDir)}: contains a NUL byte`);

  const databaseUrl = checkDatabaseUrl(get(SETTINGS.databaseUrl), SETTINGS.databaseUrl);
  const listenDatabaseUrl = checkDatabaseUrl(get(SETTINGS.listenDatabaseUrl), SETTINGS.listenDatabaseUrl);

  const poolText = get(SETTINGS.dbPoolSize)!;
  const dbPoolSize = Number(poolText);
  if (!/^\d{1,3}$/.test(poolText) || dbPoolSize < 1 || dbPoolSize > 100) {
    throw new UserError(`${settingName(SETTINGS.dbPoolSize)}: expected a whole number from 1 to 100, got ${quote(poolText)}`);
  }

  const shard = get(SETTINGS.shard) ?? null;
  const badShard = shard === null ? null : shardProblem(shard);
  if (badShard) throw new UserError(`${settingName(SETTINGS.shard)}: ${badShard}`);
  const shardDrainMs = parseDuration(get(SETTINGS.shardDrain)!, settingName(SETTINGS.shardDrain));
  const handoffText = get(SETTINGS.shardHandoffTimeout)!;
  const shardHandoffTimeoutMs = parseDuration(handoffText, settingName(SETTINGS.shardHandoffTimeout));
  if (shardHandoffTimeoutMs < 1000)
    throw new UserError(`${settingName(SETTINGS.shardHandoffTimeout)}: must be at least 1s, got ${quote(handoffText)}`);
  const traefikStatic = traefikStaticSettings(flags, env, get);
  const traefikApiUrl = get(SETTINGS.traefikApiUrl);
  if (traefikApiUrl !== undefined && !isHttpUrl(traefikApiUrl)) {
    throw new UserError(
      `${settingName(SETTINGS.traefikApiUrl)}: expected an http:// or https:// URL like "http://127.0.0.1:8080", got ${quote(traefikApiUrl)}`,
    );
  }
  const warnings: string[] = [];
  for (const s of [SETTINGS.databaseUrl, SETTINGS.listenDatabaseUrl]) {
    if (flags[s.flag] && passwordOf(flags[s.flag]!)) {
      warnings.push(
        `--${s.flag} holds a password, which every user of this machine can read in the process list (ps); ` +
          `give the URL in ${s.env}${s === SETTINGS.databaseUrl ? ` or in a file named by ${SETTINGS.databaseUrlFile.env}` : ''} instead`,
      );
    }
  }
  const apiTokenFile = get(SETTINGS.apiTokenFile);
  const databaseUrlFile = get(SETTINGS.databaseUrlFile);
  for (const [s, v] of [
    [SETTINGS.apiTokenFile, apiTokenFile],
    [SETTINGS.databaseUrlFile, databaseUrlFile],
  ] as const) {
    if (v?.includes('\0')) throw new UserError(`${settingName(s)}: contains a NUL byte`);
  }
  const apiAllowedHosts = (get(SETTINGS.apiAllowedHosts) ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
    .map((h) => {
      const c = canonicalHost(h);
      if (!c)
        throw new UserError(
          `${settingName(SETTINGS.apiAllowedHosts)}: expected host names or IP addresses separated by ",", got ${quote(h)}`,
        );
      return c.host;
    });
  let allowedInternalTargets: InternalTarget[];
  try {
    allowedInternalTargets = parseInternalTargets(get(SETTINGS.allowedInternalTargets) ?? '');
  } catch (err) {
    throw new UserError(`${settingName(SETTINGS.allowedInternalTargets)}: ${(err as Error).message}`);
  }

  const extraProviders = parseExtraProviders(get(SETTINGS.traefikExtraProviders) ?? '', settingName(SETTINGS.traefikExtraProviders));
  const traefikProviders = enabledProviders(traefikStatic.overlay?.doc, extraProviders);

  return Object.freeze({
    databaseUrl,
    configDir,
    intervalMs,
    driftMode,
    maxDeleteFraction: fraction,
    httpHost: am[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0',
    httpPort: port,
    logLevel: logLevel as LogLevel,
    podName: env.POD_NAME || undefined,
    podNamespace: env.POD_NAMESPACE || undefined,
    listenDatabaseUrl,
    dbPoolSize,
    shard,
    shardDrainMs,
    shardHandoffTimeoutMs,
    traefikStatic,
    traefikApiUrl,
    traefikProviders,
    podIp: env.POD_IP || undefined,
    databaseUrlFile,
    apiTokenFile,
    apiAllowedHosts: Object.freeze(apiAllowedHosts),
    allowedInternalTargets: Object.freeze(allowedInternalTargets),
    warnings: Object.freeze(warnings),
  });
}

/** A shard name: a DNS label of at most 50 characters (it becomes part of a NOTIFY channel name, at most 63). */
export const SHARD_NAME = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;

/** The problem with a shard name (SHARD, a spec's `shard`), or null. */
export function shardProblem(v: string): string | null {
  return SHARD_NAME.test(v)
    ? null
    : `expected a shard name (lower-case letters, digits and "-", at most 50, starting and ending with a letter or digit), got ${quote(v)}`;
}

/** A postgres:// URL, or undefined; the message never echoes the value (it may hold a password). */
function checkDatabaseUrl(url: string | undefined, setting: Setting): string | undefined {
  if (url === undefined) return undefined;
  // Never echo the value: it may hold a password.
  if (!isPostgresUrl(url)) throw new UserError(`${settingName(setting)}: expected a postgres:// or postgresql:// URL`);
  return url;
}

/** The session URL (LISTEN, advisory lock): LISTEN_DATABASE_URL, else the database URL. */
export function sessionDatabaseUrl(config: Config): string {
  return config.listenDatabaseUrl ?? requireDatabaseUrl(config);
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** The TRAEFIK_* settings of the static config, parsed and checked together (the overlay against the rest). */
function traefikStaticSettings(
  flags: Readonly<Record<string, string | undefined>>,
  env: Readonly<Record<string, string | undefined>>,
  get: (s: Setting) => string | undefined,
): StaticSettings {
  const entryPoints = parseEntryPoints(get(SETTINGS.traefikEntryPoints)!, settingName(SETTINGS.traefikEntryPoints));
  // Empty means "no API" here, not "the default": look at what was given before defaulting.
  const api = SETTINGS.traefikApiAddr;
  const apiText = flags[api.flag] ?? env[api.env] ?? api.def;
  const apiAddress = parseApiAddress(apiText, settingName(api), entryPoints);
  const throttle = get(SETTINGS.traefikThrottle)!;
  parseDuration(throttle, settingName(SETTINGS.traefikThrottle));
  const file = get(SETTINGS.traefikStaticFile);
  const overlay = file === undefined ? null : readStaticOverlay(file, settingName(SETTINGS.traefikStaticFile));
  const settings: StaticSettings = Object.freeze({ entryPoints, apiAddress, throttle, overlay });
  checkStaticSettings(settings, settingName(SETTINGS.traefikStaticFile));
  return settings;
}

/**
 * The database URL (from the flag, DATABASE_URL, or the file DATABASE_URL_FILE names: a file or
 * the environment keep the password out of the process list), or a clear error when it is missing.
 */
export function requireDatabaseUrl(config: Config): string {
  if (!config.databaseUrl && config.databaseUrlFile) {
    const name = settingName(SETTINGS.databaseUrlFile);
    let text: string;
    try {
      text = readFileSync(config.databaseUrlFile, 'utf8').trim();
    } catch (err) {
      throw new UserError(`${name}: cannot read ${quote(config.databaseUrlFile)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!isPostgresUrl(text)) throw new UserError(`${name}: the file does not hold a postgres:// or postgresql:// URL`);
    registerSecret(passwordOf(text));
    return text;
  }
  if (!config.databaseUrl) {
    throw new UserError(`${settingName(SETTINGS.databaseUrl)}: required, e.g. postgres://traefik_sync@db.example:5432/traefik`);
  }
  return config.databaseUrl;
}

/** Read TRAEFIK_STATIC_FILE and parse it; throws a UserError naming `setting` and the file. */
function readStaticOverlay(file: string, setting: string): StaticOverlay {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UserError(`${setting}: ${file}: cannot be read: ${messageOf(err)}`);
  }
  return parseStaticOverlay(bytes, file, setting);
}
