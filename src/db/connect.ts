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
  /** Per-statement timeout (default 30 s); protects the loop from a hung query. The client gives up 5 s later. */
  readonly statementTimeoutMs?: number;
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
    return withStartupFallback(databaseUrl, options);
  } catch (err) {
    throw new UserError(`${options.setting ?? 'database URL'}: ${urlProblem(err, databaseUrl)}`);
  }
}

/** How much longer than the statement timeout a query may take before we stop waiting for it. */
export const QUERY_TIMEOUT_MARGIN_MS = 5_000;

/**
 * The pool sends statement_timeout in the startup packet: it outranks database and role defaults,
 * so an absurd `ALTER DATABASE … SET statement_timeout` cannot starve the controller, and it is no
 * SET. PgBouncer refuses startup parameters it does not track ("unsupported startup parameter"),
 * and in transaction pooling mode a SET would outlive our transaction on its server connection:
 * on that answer the pool is replaced, once, by one that sends none — no session state at all
 * (set_config(…, true) and advisory locks are transaction-scoped; statements are unnamed) — and
 * the call is retried. A server-side statement timeout then belongs to the role (README
 * "PgBouncer"); the client's own query timeout holds either way.
 */
function withStartupFallback(databaseUrl: string, options: ConnectOptions): ConnectionPool {
  let pool = createPool(databaseUrl, options, true);
  const refused = (err: unknown) => /unsupported startup parameter/i.test(messageOf(err));
  const call = (on: ConnectionPool, key: PropertyKey, args: unknown[]): unknown =>
    (on as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[key]!(...args);
  return new Proxy({} as ConnectionPool, {
    get(_target, key) {
      const value = (pool as unknown as Record<PropertyKey, unknown>)[key];
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const used = pool;
        const result = call(used, key, args);
        if (!(result instanceof Promise) || key === 'dispose') return result;
        return result.catch((err: unknown) => {
          if (!refused(err)) throw err;
          // Calls made on the first pool meanwhile find the second one there already.
          if (pool === used) {
            pool = createPool(databaseUrl, options, false);
            void used.dispose().catch(() => {});
          }
          return call(pool, key, args);
        });
      };
    },
  });
}

function createPool(databaseUrl: string, options: ConnectOptions, startupTimeout: boolean): ConnectionPool {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  // CommonJS interop: the module object carries the factory as `.default`.
  return pgModule.default({
    connectionString: databaseUrl,
    bigIntMode: 'number',
    poolSize: options.poolSize ?? 4,
    applicationName: options.applicationName ?? 'traefik-sync',
    connectionTimeoutMilliseconds: 5_000,
    queueTimeoutMilliseconds: 30_000,
    idleTimeoutMilliseconds: 10_000,
    ...(startupTimeout ? { statementTimeoutMilliseconds: statementTimeout } : {}),
    // The server's statement_timeout cannot answer over a connection that went silent (a network
    // partition: no reset, no reply); without a limit of our own, a pass would wait forever and
    // hold every later one. A query past it fails, and its connection is discarded, not reused.
    // Inside a transaction the ROLLBACK that follows waits its own turn: up to twice as long.
    queryTimeoutMilliseconds: statementTimeout + QUERY_TIMEOUT_MARGIN_MS,
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
