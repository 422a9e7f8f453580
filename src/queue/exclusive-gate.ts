/**
 * Shared and exclusive runs: shared tasks run side by side; an exclusive task waits for those
 * running, and nothing starts while it runs. The controller runs project passes shared (two
 * projects never share a file) and full passes exclusive.
 */
export class ExclusiveGate {
  #gate: Promise<void> | null = null;
  readonly #running = new Set<Promise<unknown>>();

  async run<T>(exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    while (this.#gate) await this.#gate;
    if (!exclusive) {
      const run = fn();
      this.#running.add(run);
      try {
        return await run;
      } finally {
        this.#running.delete(run);
      }
    }
    let release!: () => void;
    this.#gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await Promise.allSettled([...this.#running]);
      return await fn();
    } finally {
      this.#gate = null;
      release();
    }
  }
}
