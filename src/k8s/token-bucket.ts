/** A token bucket on an injectable clock: `burst` tokens, one more every `refillMs`. */
export class TokenBucket {
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(burst: number, refillMs: number, now: () => number) {
    if (!(burst >= 1)) throw new Error(`token bucket burst must be at least 1, got ${burst}`);
    if (!(refillMs > 0)) throw new Error(`token bucket refill period must be positive, got ${refillMs} ms`);
    this.#burst = burst;
    this.#refillMs = refillMs;
    this.#now = now;
    this.#tokens = burst;
    this.#at = now();
  }

  /** Take a token: 0 when taken, else the milliseconds until one is available (nothing taken). */
  take(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) / this.#refillMs);
    this.#at = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.#tokens) * this.#refillMs);
  }
}
