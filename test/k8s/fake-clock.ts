/** A fake clock implementing the Timers interface: time moves only when a test advances it. */
import type { Timers } from '../../src/queue/work-queue.js';

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class FakeClock implements Timers {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, Pending>();

  constructor(start = Date.parse('2030-01-01T00:00:00Z')) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Move time forward by `ms`, firing due timers in order (each at its own time). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, Pending] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)))
          next = entry;
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
  }
}
