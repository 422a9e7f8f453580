/**
 * "Traefik restart needed": Traefik reads static/traefik.yml only when it starts (entry points,
 * ACME resolvers, TRAEFIK_STATIC_FILE), so a static config that changes while it runs is not in
 * effect until Traefik restarts. The tracker remembers the static file as it was on the volume
 * when this controller started (what the Traefik of the same pod started with: the init container
 * writes it before Traefik starts) and reports when the file written since differs from it
 * (docs/contract.md §6). Pure.
 */

/** Whether the running Traefik needs a restart to read the static config on the volume. */
export interface TraefikRestart {
  readonly needed: boolean;
  /** When the static file first differed from what Traefik started with (ISO-8601), or null. */
  readonly since: string | null;
  /** Why, for logs and the status page (null when not needed). */
  readonly reason: string | null;
  /** The state changed with this pass (log and Event once, not on every pass). */
  readonly changed: boolean;
}

/** The message of a needed restart. */
export const RESTART_REASON =
  'static/traefik.yml changed since Traefik started (entry points, ACME resolvers or TRAEFIK_STATIC_FILE); Traefik reads its static configuration only at start: restart Traefik to apply it';

/** Tracks the static file's checksum against the one Traefik started with. */
export class StaticRestartTracker {
  /** Checksum at start; undefined until known, null when there was no static file then. */
  #started: string | null | undefined;
  #since: Date | null = null;

  /** The static file as the controller found it at start (only the first call counts). */
  atStart(checksum: string | null): void {
    if (this.#started === undefined) this.#started = checksum;
  }

  /**
   * The static file on the volume after a pass wrote it (null: none). A first file written where
   * there was none is what Traefik starts with (it cannot have started without one).
   */
  observe(checksum: string | null, at: Date): TraefikRestart {
    if (this.#started === undefined || this.#started === null) this.#started = checksum;
    const before = this.#since !== null;
    const needed = checksum !== this.#started;
    if (needed && this.#since === null) this.#since = at;
    if (!needed) this.#since = null;
    return { ...this.state(), changed: needed !== before };
  }

  /** The current state (changed: false). */
  state(): TraefikRestart {
    return {
      needed: this.#since !== null,
      since: this.#since?.toISOString() ?? null,
      reason: this.#since ? RESTART_REASON : null,
      changed: false,
    };
  }
}
