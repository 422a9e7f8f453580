/** Connection pool creation (one place), with secrets registered for redaction. */
import pgModule, { type ConnectionPool } from '@databases/pg';
import { UserError, messageOf, quote } from '../errors.js';
import { passwordOf, redact, registerSecret } from '../redact.js';

export type { ConnectionPool, Queryable, Transaction } from '@databases/pg';
export { sql } from '@databases/pg';

/** Options for {@link connect}. */
export interface ConnectOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
  /**
   * How long a query may take before the client gives up on it (default 35 s) and discards its
   * connection; protects the loop from a hung query or a connection gone silent.
   */
  readonly queryTimeoutMs?: number;
  /** How errors about the URL itself name it, e.g. `--database-url (DATABASE_URL)`. */
  readonly setting?: string;
  readonly onError?: (err: Error) => void;
  /** Called after every query with its SQL text and duration (metrics, benchmark). */
  readonly onQuery?: (text: string, seconds: number, ok: boolean) => void;
}

/**
 * A pool on `databaseUrl`. Queries are tagged templates (`sql\`...\``), so every value is a
 * parameter. Errors raised by the pool have the password scrubbed from their message. A URL the
 * driver rejects (e.g. a bad `sslmode`) throws a UserError naming `options.setting`.
 */
export function connect(databaseUrl: string, options: ConnectOptions = {}): ConnectionPool {
  registerSecret(passwordOf(databaseUrl));
  try {
    return createPool(databaseUrl, options);
  } catch (err) {
    throw new UserError(`${options.setting ?? 'database URL'}: ${urlProblem(err, databaseUrl)}`);
  }
}

/**
 * No session state: nothing is set per session (no `statement_timeout` or `options` startup
 * parameter, no SET, no session advisory lock, no named prepared statement), so every query works
 * through PgBouncer in transaction pooling mode, where consecutive transactions of one client may
 * run on different server connections (PgBouncer also refuses unknown startup parameters). A
 * server-side statement timeout belongs to the role: `ALTER ROLE … SET statement_timeout = '30s'`
 * (README "PgBouncer"). Session work — LISTEN, the leader's advisory lock — uses the session
 * connection (db/session.ts).
 */
function createPool(databaseUrl: string, options: ConnectOptions): ConnectionPool {
  // CommonJS interop: the module object carries the factory as `.default`.
  return pgModule.default({
    connectionString: databaseUrl,
    bigIntMode: 'number',
    poolSize: options.poolSize ?? 4,
    applicationName: options.applicationName ?? 'traefik-sync',
    connectionTimeoutMilliseconds: 5_000,
    queueTimeoutMilliseconds: 30_000,
    idleTimeoutMilliseconds: 10_000,
    // A connection that went silent (a network partition: no reset, no reply) never answers;
    // without a limit of our own, a pass would wait forever and hold every later one. A query past
    // it fails, and its connection is discarded, not reused. Inside a transaction the ROLLBACK that
    // follows waits its own turn: up to twice as long.
    queryTimeoutMilliseconds: options.queryTimeoutMs ?? 35_000,
    ...(options.onQuery ? queryTimer(options.onQuery) : {}),
    onError: (err: Error) => {
      err.message = redact(err.message);
      options.onError?.(err);
    },
  });
}

/**
 * A connection-string error of the driver, in one line. Its enum errors (@databases/pg-connection-string,
 * parseEnum) print every accepted entry as `"value", "result"` — each sslmode twice; `ssl` as
 * `"true,1", "require"` — so keep the accepted values only, once each, and quote the value given.
 */
function urlProblem(err: unknown, databaseUrl: string): string {
  const message = messageOf(err).split('\n')[0]!;
  const m = /^Expected "([^"]+)" to be one of ((?:"[^"]*"(?:, )?)+)$/.exec(message);
  if (!m) return message;
  const listed = [...m[2]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!);
  const accepted = listed.length % 2 === 0 ? listed.filter((_, i) => i % 2 === 0).flatMap((k) => k.split(',')) : listed;
  let given: string | null = null;
  try {
    given = new URL(databaseUrl).searchParams.get(m[1]!);
  } catch {
    /* the name came from the environment (e.g. PGSSLMODE), not the URL */
  }
  return `${m[1]}: expected one of ${[...new Set(accepted)].map((v) => JSON.stringify(v)).join(', ')}${given === null ? '' : `, got ${quote(given)}`}`;
}

/** Where `databaseUrl` points, as `host:port` (or a socket directory); never the user or password. */
export function addressOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || 'localhost';
    return host.startsWith('/') ? host : `${host}:${url.port || url.searchParams.get('port') || '5432'}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Why connecting failed, in a few words: `connect ECONNREFUSED`, `getaddrinfo ENOTFOUND`, or the server's message. */
export function connectFailure(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return [...new Set(err.errors.map(connectFailure))].join('; ');
  const { code, syscall } = (err ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code === 'string' && typeof syscall === 'string') return `${syscall} ${code}`;
  return messageOf(err).split('\n')[0]!;
}

/** Event handlers that time each query (keyed by the query object between start and end). */
function queryTimer(onQuery: (text: string, seconds: number, ok: boolean) => void) {
  const started = new WeakMap<object, bigint>();
  const done = (query: object, formatted: { readonly text: string }, ok: boolean) => {
    const t0 = started.get(query);
    if (t0 === undefined) return;
    started.delete(query);
    onQuery(formatted.text, Number(process.hrtime.bigint() - t0) / 1e9, ok);
  };
  return {
    onQueryStart: (query: object) => {
      started.set(query, process.hrtime.bigint());
    },
    onQueryResults: (query: object, formatted: { readonly text: string }) => done(query, formatted, true),
    onQueryError: (query: object, formatted: { readonly text: string }) => done(query, formatted, false),
  };
}
