/**
 * Leadership for database-side singleton work when not in a cluster: a session-level PostgreSQL
 * advisory lock held on a dedicated connection. Losing the connection loses the lock (and the
 * leadership) at once; other replicas retry every `retryMs`.
 */
import pg from 'pg';

/** Who leads database-side singleton work. */
export interface Leadership {
  readonly isLeader: boolean;
  start(): void;
  /** Release leadership (SIGTERM). */
  stop(): Promise<void>;
}

const LOCK_KEY = '7626957383934132338'; // 'tsyncldr' as a bigint
/** How long the lock connection's checks may take before leadership is given up and the connection dropped. */
const QUERY_TIMEOUT_MS = 10_000;
/** Silence after which PostgreSQL ends the lock's session (more than the query timeout: the cut-off replica steps down first). */
const IDLE_SESSION_TIMEOUT_MS = 15_000;

export class AdvisoryLockLeader implements Leadership {
  readonly #url: string;
  readonly #retryMs: number;
  readonly #onChange: (leader: boolean) => void;
  #client: pg.Client | null = null;
  #leader = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(databaseUrl: string, onChange: (leader: boolean) => void, retryMs = 2_000) {
    this.#url = databaseUrl;
    this.#onChange = onChange;
    this.#retryMs = retryMs;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    void this.#try();
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#onChange(leader);
  }

  async #try(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!this.#client) {
        const client = new pg.Client({
          connectionString: this.#url,
          keepAlive: true,
          connectionTimeoutMillis: 5_000,
          application_name: 'traefik-sync-leader',
          // A connection gone silent (network partition) must not leave us leading in our own eyes forever.
          query_timeout: QUERY_TIMEOUT_MS,
        });
        client.on('error', () => {
          this.#client = null;
          this.#set(false);
          client.end().catch(() => {});
        });
        await client.connect();
        // PostgreSQL ends this session once it has been silent that long, freeing the lock: a
        // replica cut off from the database then holds leadership for seconds, not for the hours
        // TCP keepalive takes to notice. PostgreSQL 14+; older servers refuse the setting.
        await client.query(`SET idle_session_timeout = ${Math.max(IDLE_SESSION_TIMEOUT_MS, 5 * this.#retryMs)}`).catch(() => {});
        if (this.#stopped) {
          // stop() ran while connecting: it could not see this client
          await client.end().catch(() => {});
          return;
        }
        this.#client = client;
      }
      if (this.#leader) {
        await this.#client.query('SELECT 1'); // still connected ⇒ still holding the lock
      } else {
        const res = await this.#client.query('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LOCK_KEY]);
        if (!this.#stopped) this.#set(Boolean(res.rows[0]?.ok)); // after stop() its session is ending: the lock goes with it
      }
    } catch {
      this.#client?.end().catch(() => {});
      this.#client = null;
      this.#set(false);
    }
    if (!this.#stopped) this.#timer = setTimeout(() => void this.#try(), this.#retryMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#client) {
      if (this.#leader) await this.#client.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_KEY]).catch(() => {});
      await this.#client.end().catch(() => {});
    }
    this.#client = null;
    this.#set(false);
  }
}
