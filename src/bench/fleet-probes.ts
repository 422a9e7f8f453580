/**
 * What the fleet benchmark reads from the database server: the CPU time of its processes (from
 * /proc: the postmaster, its live children, and the children it has reaped), the connections
 * held (pg_stat_activity, by application_name) and the statements run (pg_stat_statements).
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/** CPU seconds used so far by the PostgreSQL server whose data directory is `dataDir`. */
export class ServerCpu {
  readonly #pid: number;
  readonly #tick: number;

  private constructor(pid: number, tick: number) {
    this.#pid = pid;
    this.#tick = tick;
  }

  /** The server of `dataDir` (its postmaster.pid names the postmaster). */
  static async of(dataDir: string): Promise<ServerCpu> {
    const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return new ServerCpu(pid, tick);
  }

  /** Postmaster (own + reaped children) and live children: user + system CPU seconds. */
  async seconds(): Promise<number> {
    let ticks = 0;
    const own = await stat(this.#pid);
    if (own) ticks += own.utime + own.stime + own.cutime + own.cstime;
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = await stat(Number(name));
      if (s && s.ppid === this.#pid) ticks += s.utime + s.stime;
    }
    return ticks / this.#tick;
  }
}

async function stat(pid: number): Promise<{ ppid: number; utime: number; stime: number; cutime: number; cstime: number } | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!text) return null;
  // Fields after the command name (which may contain spaces and parentheses): state ppid … utime(14) stime cutime cstime.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
}

/**
 * Samples a value every `everyMs` while running: the largest and mean rate of `read` (per second)
 * or, with `level`, the largest and mean value itself.
 */
export class Sampler {
  readonly #samples: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #last: { at: number; value: number } | null = null;
  #busy = false;

  constructor(
    readonly read: () => Promise<number>,
    readonly mode: 'rate' | 'level',
    readonly everyMs = 1000,
  ) {}

  async start(): Promise<void> {
    this.#last = { at: performance.now(), value: await this.read() };
    this.#timer = setInterval(() => void this.#tick(), this.everyMs);
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const at = performance.now();
      const value = await this.read();
      if (this.mode === 'level') this.#samples.push(value);
      else if (this.#last) this.#samples.push((value - this.#last.value) / ((at - this.#last.at) / 1000));
      this.#last = { at, value };
    } catch {
      /* a sample lost */
    } finally {
      this.#busy = false;
    }
  }

  /** Stop; the peak and mean of the samples (0 when none). */
  stop(): { peak: number; mean: number; samples: number } {
    clearInterval(this.#timer);
    const n = this.#samples.length;
    return { peak: n ? Math.max(...this.#samples) : 0, mean: n ? this.#samples.reduce((a, b) => a + b, 0) / n : 0, samples: n };
  }
}

/** Application names of our own connections (left out of the counts). */
const OWN = 'traefik-sync-bench';

/** A connection of the benchmark's own for pg_stat_* reads (left out of what it counts). */
export class StatsReader {
  #client: pg.Client;

  constructor(url: string) {
    this.#client = new pg.Client({ connectionString: url, application_name: `${OWN}-stats` });
  }

  async open(): Promise<void> {
    await this.#client.connect();
  }

  async #q<R extends pg.QueryResultRow>(text: string): Promise<R[]> {
    return (await this.#client.query<R>(text)).rows;
  }

  /** Client connections to this database by application_name, without the benchmark's own. */
  async connections(): Promise<Record<string, number>> {
    const rows = await this.#q<{ app: string; n: string }>(
      `SELECT coalesce(nullif(application_name, ''), '(none)') AS app, count(*) AS n FROM pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND application_name NOT LIKE '${OWN}%' GROUP BY 1`,
    );
    return Object.fromEntries(rows.map((r) => [r.app, Number(r.n)]));
  }

  /** Total of {@link connections}. */
  async connectionCount(): Promise<number> {
    return Object.values(await this.connections()).reduce((a, b) => a + b, 0);
  }

  /**
   * Statements run in this database so far, by statement (pg_stat_statements, counted when each
   * ends: exact, unlike pg_stat_database's transaction counts, which backends report late), without
   * the benchmark's own reads of the statistics.
   */
  async statements(): Promise<Map<string, number>> {
    const rows = await this.#q<{ query: string; calls: string }>(
      `SELECT s.query, sum(s.calls) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%' GROUP BY s.query`,
    );
    return new Map(rows.map((r) => [r.query.replace(/\s+/g, ' ').trim(), Number(r.calls)]));
  }

  async close(): Promise<void> {
    await this.#client.end().catch(() => {});
  }
}
