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
    onError: (err: Error) => {
      err.message = redact(err.message);
      options.onError?.(err);
    },
  });
}
