/**
 * Leadership for database-side singleton work when not in a cluster: a session-level PostgreSQL
 * advisory lock. The sidecar holds it on its session connection (listen.ts), which it keeps
 * anyway for LISTEN: {@link SessionLockLeader}, no connection of its own. {@link AdvisoryLockLeader}
 * holds it on a dedicated connection (for callers without a session connection). Losing the
 * connection loses the lock (and the leadership) at once; other replicas retry every `retryMs`.
 * Never through PgBouncer in transaction mode: the lock belongs to a session.
 */
import { withJitter } from '../queue/backoff.js';
import { Listener } from './listen.js';

/** Who leads database-side singleton work. */
export interface Leadership {
  readonly isLeader: boolean;
  start(): void;
  /** Release leadership (SIGTERM). */
  stop(): Promise<void>;
}

const LOCK_KEY = '7626957383934132338'; // 'tsyncldr' as a bigint

/**
 * The lock on the session connection. Not leading, it tries once every `retryMs` (± 10 %: the
 * sidecar passes its SYNC_INTERVAL, as leadership only paces hourly housekeeping); leading, it
 * pings the session as often, holds while the session lasts, and steps down the moment it is
 * lost (a ping unanswered within 5 s drops it).
 */
export class SessionLockLeader implements Leadership {
  readonly #session: Listener;
  readonly #onChange: (leader: boolean) => void;
  readonly #retryMs: number;
  #leader = false;
  #heldIn = -1;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #unsubscribe: (() => void) | null = null;

  constructor(session: Listener, onChange: (leader: boolean) => void, retryMs: number) {
    this.#session = session;
    this.#onChange = onChange;
    this.#retryMs = retryMs;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  start(): void {
    this.#unsubscribe ??= this.#session.subscribe({
      onConnected: () => void this.#try(),
      onDisconnected: () => this.#set(false),
    });
    this.#session.start();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#try().finally(() => this.#schedule()), withJitter(this.#retryMs, 0.1));
    this.#timer.unref();
  }

  #set(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#onChange(leader);
  }

  async #try(): Promise<void> {
    if (this.#stopped) return;
    const session = this.#session.session;
    if (!this.#session.connected) return this.#set(false);
    if (this.#leader && this.#heldIn === session) {
      if (!(await this.#session.ping())) this.#set(false);
      return;
    }
    const rows = await this.#session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [LOCK_KEY]);
    if (this.#stopped) return; // stop() ran meanwhile: the session ends, and the lock with it
    const ok = Boolean(rows?.[0]?.ok) && this.#session.session === session && this.#session.connected;
    if (ok) this.#heldIn = session;
    this.#set(ok);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#unsubscribe?.();
    if (this.#leader) await this.#session.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_KEY], 2_000);
    this.#set(false);
  }
}
/** Silence after which PostgreSQL ends a dedicated lock session (the cut-off replica steps down first, within its ping timeout). */
const IDLE_SESSION_TIMEOUT_MS = 15_000;

/**
 * The lock on a session connection of its own, on `databaseUrl` (for callers that keep none;
 * the sidecar shares its LISTEN connection instead).
 */
export class AdvisoryLockLeader implements Leadership {
  readonly #session: Listener;
  readonly #leader: SessionLockLeader;

  constructor(databaseUrl: string, onChange: (leader: boolean) => void, retryMs = 2_000) {
    this.#session = new Listener({
      databaseUrl,
      applicationName: 'traefik-sync-leader',
      idleSessionTimeoutMs: Math.max(IDLE_SESSION_TIMEOUT_MS, 5 * retryMs),
    });
    this.#leader = new SessionLockLeader(this.#session, onChange, retryMs);
  }

  get isLeader(): boolean {
    return this.#leader.isLeader;
  }

  start(): void {
    this.#leader.start();
  }

  async stop(): Promise<void> {
    await this.#leader.stop();
    await this.#session.stop();
  }
}
