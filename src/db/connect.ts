/** Connection pool creation (one place), with secrets registered for redaction. */
import pgModule, { type ConnectionPool } from '@databases/pg';
import { passwordOf, redact, registerSecret } from '../redact.js';

export type { ConnectionPool, Queryable, Transaction } from '@databases/pg';
export { sql } from '@databases/pg';

/** Options for {@link connect}. */
export interface ConnectOptions {
  readonly poolSize?: number;
  readonly applicationName?: string;
  /** Per-statement timeout; protects the loop from a hung query. */
  readonly statementTimeoutMs?: number;
  readonly onError?: (err: Error) => void;
  /** Called after every query with its SQL text and duration (metrics, benchmark). */
  readonly onQuery?: (text: string, seconds: number, ok: boolean) => void;
}

/**
 * A pool on `databaseUrl`. Queries are tagged templates (`sql\`...\``), so every value is a
 * parameter. Errors raised by the pool have the password scrubbed from their message.
 */
export function connect(databaseUrl: string, options: ConnectOptions = {}): ConnectionPool {
  registerSecret(passwordOf(databaseUrl));
  // CommonJS interop: the module object carries the factory as `.default`.
  return pgModule.default({
    connectionString: databaseUrl,
    bigIntMode: 'number',
    poolSize: options.poolSize ?? 4,
    applicationName: options.applicationName ?? 'traefik-sync',
    connectionTimeoutMilliseconds: 5_000,
    queueTimeoutMilliseconds: 30_000,
    idleTimeoutMilliseconds: 10_000,
    statementTimeoutMilliseconds: options.statementTimeoutMs ?? 30_000,
    ...(options.onQuery ? queryTimer(options.onQuery) : {}),
    onError: (err: Error) => {
      err.message = redact(err.message);
      options.onError?.(err);
    },
  });
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
    onQueryStart: (query: object) => { started.set(query, process.hrtime.bigint()); },
    onQueryResults: (query: object, formatted: { readonly text: string }) => done(query, formatted, true),
    onQueryError: (query: object, formatted: { readonly text: string }) => done(query, formatted, false),
  };
}
