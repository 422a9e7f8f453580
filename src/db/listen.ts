/**
 * LISTEN traefik_sync on a dedicated `pg` client (STYLE rule 7). Reconnects with capped
 * exponential backoff + jitter; after every (re)connection `onConnected` fires so the controller
 * can do a full resync — notifications sent while disconnected are lost.
 */
import pg from 'pg';
import { backoffDelay } from '../queue/backoff.js';
import { redact } from '../redact.js';

export const CHANNEL = 'traefik_sync';

export interface ListenerOptions {
  readonly databaseUrl: string;
  readonly onNotify: (payload: string) => void;
  /** `first` is false after a reconnection. */
  readonly onConnected: (first: boolean) => void;
  readonly onDisconnected: (reason: string) => void;
  readonly backoff?: { baseMs: number; maxMs: number };
}

export class Listener {
  readonly #o: ListenerOptions;
  #client: pg.Client | null = null;
  #stopped = false;
  #attempt = 0;
  #everConnected = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #connected = false;

  constructor(options: ListenerOptions) {
    this.#o = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Start connecting (in the background; retries until stopped). */
  start(): void {
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const client = new pg.Client({
      connectionString: this.#o.databaseUrl,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      application_name: 'traefik-sync-listen',
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
      if (wasConnected) this.#o.onDisconnected(redact(reason));
      this.#scheduleRetry();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL) this.#o.onNotify(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
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
    const first = !this.#everConnected;
    this.#everConnected = true;
    this.#o.onConnected(first);
  }

  #scheduleRetry(): void {
    if (this.#stopped) return;
    this.#attempt++;
    const delay = backoffDelay(this.#attempt, this.#o.backoff ?? { baseMs: 250, maxMs: 30_000 });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }

  /** Check the connection is alive (a cheap round trip); a dead one triggers reconnection. */
  async ping(timeoutMs = 5_000): Promise<boolean> {
    const client = this.#client;
    if (!client || !this.#connected) return false;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('LISTEN connection ping timed out')), timeoutMs).unref()),
      ]);
      return true;
    } catch (err) {
      client.emit('error', err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    this.#connected = false;
    await this.#client?.end().catch(() => {});
  }
}
