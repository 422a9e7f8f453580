/**
 * The session connection: one dedicated `pg` client per replica (STYLE rule 7) that LISTENs for
 * changes and carries the other session work — the leader's advisory lock (leader.ts
 * SessionLockLeader) and the periodic ping. Everything else goes through the pool, which holds no
 * session state (connect.ts), so the pool may sit behind PgBouncer in transaction mode while this
 * connection goes to PostgreSQL directly (LISTEN_DATABASE_URL).
 *
 * Reconnects with capped exponential backoff + jitter; after every (re)connection the subscribers
 * hear of it, with whether the server is another one than before (a restart, a promoted standby,
 * a restored backup): notifications sent while disconnected are lost, and versions read from
 * another server say nothing about this one.
 */
import pg from 'pg';
import { backoffDelay } from '../queue/backoff.js';
import { redact } from '../redact.js';

/** The channel every change is announced on (sql/002_triggers.sql). */
export const CHANNEL = 'traefik_sync';

/** The channel of one shard's changes (sql/006_shards.sql); shard names are checked (config.ts SHARD_NAME). */
export function shardChannel(shard: string): string {
  return `${CHANNEL}.${shard}`;
}

/** What happened when the session (re)connected. */
export interface SessionConnected {
  /** The first connection of this process. */
  readonly first: boolean;
  /** The server is not the one of the previous connection (restarted, switched, restored); false the first time. */
  readonly serverChanged: boolean;
  /** Which server: its start time and address, as it reports them (never credentials). */
  readonly server: string;
}

/** Who wants to hear about the session. */
export interface SessionSubscriber {
  readonly onNotify?: (payload: string) => void;
  readonly onConnected?: (c: SessionConnected) => void;
  readonly onDisconnected?: (reason: string) => void;
}

export interface ListenerOptions {
  readonly databaseUrl: string;
  /** Channel to LISTEN on (default {@link CHANNEL}). */
  readonly channel?: string;
  readonly backoff?: { baseMs: number; maxMs: number };
  /**
   * PostgreSQL ends the session after this much silence (`idle_session_timeout`, PostgreSQL 14+),
   * freeing the leader's lock when a replica is cut off; the periodic ping keeps a live one busy.
   * Omitted: not set.
   */
  readonly idleSessionTimeoutMs?: number;
  /** The session's name in pg_stat_activity (default traefik-sync-listen). */
  readonly applicationName?: string;
  /** Subscribed at construction (more with {@link Listener.subscribe}). */
  readonly onNotify?: (payload: string) => void;
  readonly onConnected?: (c: SessionConnected) => void;
  readonly onDisconnected?: (reason: string) => void;
}

export class Listener {
  readonly #o: ListenerOptions;
  readonly #subscribers = new Set<SessionSubscriber>();
  #client: pg.Client | null = null;
  #stopped = false;
  #started = false;
  #attempt = 0;
  #everConnected = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #connected = false;
  #server: string | null = null;
  #session = 0;
  /** Queries on the session run one after the other (a pg.Client takes one at a time). */
  #queries: Promise<unknown> = Promise.resolve();

  constructor(options: ListenerOptions) {
    this.#o = options;
    this.#subscribers.add(options);
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Counts connections: a lock taken in one session is gone once this has moved on. */
  get session(): number {
    return this.#session;
  }

  /** The server of the current (or last) connection, as {@link SessionConnected.server}. */
  get server(): string | null {
    return this.#server;
  }

  /** Hear about notifications and (dis)connections; returns the unsubscribe function. */
  subscribe(s: SessionSubscriber): () => void {
    this.#subscribers.add(s);
    return () => this.#subscribers.delete(s);
  }

  /** Start connecting (in the background; retries until stopped). Starting twice does nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      connectionString: this.#o.databaseUrl,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      application_name: this.#o.applicationName ?? 'traefik-sync-listen',
    });
    this.#client = client;
    let failed = false;
    const lost = (reason: string) => {
      if (failed) return;
      failed = true;
      const wasConnected = this.#connected;
      this.#connected = false;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (wasConnected) for (const s of this.#subscribers) s.onDisconnected?.(redact(reason));
      this.#scheduleRetry();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    const channel = this.#o.channel ?? CHANNEL;
    client.on('notification', (msg) => {
      if (msg.channel === channel) for (const s of this.#subscribers) s.onNotify?.(msg.payload ?? '');
    });
    let server: string;
    try {
      await client.connect();
      if (this.#o.idleSessionTimeoutMs !== undefined)
        // Older servers (before 14) refuse the setting: the lock then lasts as long as TCP keepalive takes.
        await client.query(`SET idle_session_timeout = ${Math.round(this.#o.idleSessionTimeoutMs)}`).catch(() => {});
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      const { rows } = await client.query<{ started: string; addr: string | null; port: number | null }>(
        'SELECT pg_postmaster_start_time()::text AS started, host(inet_server_addr()) AS addr, inet_server_port() AS port',
      );
      server = `${rows[0]?.addr ?? 'socket'}:${rows[0]?.port ?? ''} started ${rows[0]?.started ?? '?'}`;
    } catch (err) {
      lost(err instanceof Error ? err.message : String(err));
      return;
    }
    if (this.#stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.#attempt = 0;
    this.#connected = true;
    this.#session++;
    const first = !this.#everConnected;
    const serverChanged = !first && server !== this.#server;
    this.#everConnected = true;
    this.#server = server;
    for (const s of this.#subscribers) s.onConnected?.({ first, serverChanged, server });
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    this.#attempt++;
    // At most 5 s apart: after a failover the new primary is found within seconds (a fleet of 100
    // replicas then tries 20 connections a second, which a recovering server takes in its stride).
    const delay = backoffDelay(this.#attempt, this.#o.backoff ?? { baseMs: 250, maxMs: 5_000 });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
  }

  /**
   * The database answered on another connection (the pool): try now instead of waiting out the
   * backoff, so notifications resume as soon as the server is back. Does nothing while connected
   * or while an attempt is under way.
   */
  retryNow(): void {
    if (this.#stopped || !this.#started || this.#connected || this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    void this.#connect();
  }

  /**
   * A query on the session connection; null when it is not connected. A query that fails or takes
   * longer than `timeoutMs` drops the connection (it reconnects): a session that does not answer
   * holds nothing we can count on.
   */
  query<R extends pg.QueryResultRow>(text: string, values: unknown[] = [], timeoutMs = 5_000): Promise<R[] | null> {
    const run = this.#queries.then(() => this.#query<R>(text, values, timeoutMs));
    this.#queries = run;
    return run;
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[], timeoutMs: number): Promise<R[] | null> {
    const client = this.#client;
    if (!client || !this.#connected) return null;
    let timer: NodeJS.Timeout | undefined;
    try {
      const res = await Promise.race([
        client.query<R>(text, values),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the session connection did not answer in time')), timeoutMs);
          timer.unref();
        }),
      ]);
      return res.rows;
    } catch (err) {
      client.emit('error', err instanceof Error ? err : new Error(String(err)));
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Check the connection is alive (a cheap round trip); a dead one triggers reconnection. */
  async ping(timeoutMs = 5_000): Promise<boolean> {
    return (await this.query('SELECT 1', [], timeoutMs)) !== null;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#connected = false;
    await this.#client?.end().catch(() => {});
  }
}
