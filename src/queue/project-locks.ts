/**
 * Per-project locks shared by project passes and full passes, so that a full pass never makes a
 * project pass wait for it (README "Architecture", docs/contract.md §4).
 *
 * A project pass *locks* its keys (project ids; {@link GLOBAL} for the static config) for the
 * whole pass: load, plan, write, record. A full pass *claims* keys instead, softly: a claim never
 * waits, and a project pass that wants a claimed key takes it over (revokes it) at once. The full
 * pass then leaves that project to the project pass, which reads newer rows and the disk as it is
 * now. Only while the full pass writes (or records) a project does it *pin* the key, and a project
 * pass waits for that moment (milliseconds) to end.
 */

/** Key of the files that belong to no project (the static config). */
export const GLOBAL = '';

/** A full pass's soft hold on some keys. */
export class Claim {
  readonly #locks: ProjectLocks;
  /** Keys still claimed (not revoked, not released). */
  readonly #keys = new Set<string>();
  readonly #pinned = new Set<string>();
  /** Keys a project pass took over. */
  readonly #revoked = new Set<string>();

  /** @internal use {@link ProjectLocks.claim}. */
  constructor(locks: ProjectLocks) {
    this.#locks = locks;
  }

  /** True while `key` is claimed: no project pass has taken it over. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** True when a project pass took `key` over (or held it when the claim was made). */
  revoked(key: string): boolean {
    return this.#revoked.has(key);
  }

  /** Keys still claimed. */
  get keys(): ReadonlySet<string> {
    return this.#keys;
  }

  /**
   * Pin `key` for a write: until {@link unpin}, a project pass wanting it waits. False (and
   * nothing pinned) when it was taken over meanwhile: the project pass does that project.
   */
  pin(key: string): boolean {
    if (!this.#keys.has(key)) return false;
    this.#pinned.add(key);
    return true;
  }

  unpin(key: string): void {
    if (this.#pinned.delete(key)) this.#locks.changed();
  }

  /** Let go of `key` (or of every key): project passes take it without revoking anything. */
  release(key?: string): void {
    if (key !== undefined && !this.#keys.has(key)) return;
    for (const k of key === undefined ? [...this.#keys] : [key]) {
      this.#keys.delete(k);
      this.#pinned.delete(k);
      this.#locks.dropClaim(k, this);
    }
    this.#locks.changed();
  }

  /** @internal */
  isPinned(key: string): boolean {
    return this.#pinned.has(key);
  }

  /** @internal a project pass takes `key` over. */
  revoke(key: string): void {
    this.#keys.delete(key);
    this.#revoked.add(key);
  }

  /** @internal */
  add(key: string): void {
    this.#keys.add(key);
    this.#revoked.delete(key);
  }
}

interface Waiter {
  readonly keys: readonly string[];
  readonly grant: () => void;
}

export class ProjectLocks {
  /** Keys locked by project passes. */
  readonly #locked = new Set<string>();
  /** Keys claimed by full passes. */
  readonly #claims = new Map<string, Claim>();
  #waiters: Waiter[] = [];
  /** Waiting for {@link quiet}. */
  #quiet: Array<() => void> = [];

  /**
   * Lock `keys` for a project pass; resolves with the function that unlocks them. Waits while a
   * key is locked by another project pass or pinned by a full pass; a key a full pass merely
   * claims is taken over. All keys are taken at once (no deadlock), in arrival order among
   * passes that want the same keys.
   */
  async lock(keys: Iterable<string>): Promise<() => void> {
    const wanted = [...new Set(keys)];
    if (!this.#wantedByWaiter(wanted) && this.#free(wanted)) {
      this.#take(wanted);
    } else {
      await new Promise<void>((grant) => this.#waiters.push({ keys: wanted, grant }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of wanted) this.#locked.delete(k);
      this.changed();
    };
  }

  /** A claim with no keys yet, for {@link claim}. */
  newClaim(): Claim {
    return new Claim(this);
  }

  /**
   * Claim `keys` for a full pass (adding them to `claim`). Never waits: keys locked by a project
   * pass right now are left to it (reported as revoked by the claim), the others are claimed.
   */
  claim(keys: Iterable<string>, claim = new Claim(this)): Claim {
    for (const k of keys) {
      if (this.#claims.get(k) === claim) continue; // claimed already
      if (this.#locked.has(k) || this.#claims.has(k) || this.#wantedByWaiter([k])) claim.revoke(k);
      else {
        claim.add(k);
        this.#claims.set(k, claim);
      }
    }
    return claim;
  }

  /** Keys locked by project passes (tests, status). */
  get locked(): number {
    return this.#locked.size;
  }

  /**
   * Resolves when no project pass holds a lock or waits for one, or after `maxMs`: a full pass
   * waits here between its pieces of CPU work, so project passes, which share its event loop,
   * go first — without being starved, a full pass still moves at least every `maxMs`.
   */
  quiet(maxMs: number): Promise<void> {
    if (this.#locked.size === 0 && this.#waiters.length === 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const timer = setTimeout(done, maxMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#quiet.push(done);
    });
  }

  /** @internal a claim let go of `key`. */
  dropClaim(key: string, claim: Claim): void {
    if (this.#claims.get(key) === claim) this.#claims.delete(key);
  }

  /** @internal something was unlocked, unpinned or released: grant the waiters that can go now. */
  changed(): void {
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) {
      // A waiter goes when its keys are free and no earlier waiter (still waiting) wants one of them.
      if (this.#free(w.keys) && !this.#wantedByWaiter(w.keys)) {
        this.#take(w.keys);
        w.grant();
      } else {
        this.#waiters.push(w);
      }
    }
    if (this.#locked.size === 0 && this.#waiters.length === 0) for (const done of this.#quiet.splice(0)) done();
  }

  #wantedByWaiter(keys: readonly string[]): boolean {
    return this.#waiters.some((w) => w.keys.some((k) => keys.includes(k)));
  }

  /** No key locked, none pinned by a full pass (a claimed one can be taken over). */
  #free(keys: readonly string[]): boolean {
    return keys.every((k) => !this.#locked.has(k) && !this.#claims.get(k)?.isPinned(k));
  }

  #take(keys: readonly string[]): void {
    for (const k of keys) {
      const claim = this.#claims.get(k);
      if (claim) {
        claim.revoke(k);
        this.#claims.delete(k);
      }
      this.#locked.add(k);
    }
  }
}
