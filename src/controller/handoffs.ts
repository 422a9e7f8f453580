/**
 * Projects moved from this replica's shard to another, as passes report them (db/shards.ts): a
 * waiting one is looked at again when its drain or timeout ends (the new shard's write also wakes
 * us by NOTIFY); a release or a timeout is logged, and the timeout reported. /api/v1/status lists
 * the handoffs under way.
 */
import type { Handoff } from '../db/shards.js';
import type { Logger } from '../log.js';
import type { EventSink } from './events.js';

export interface HandoffTrackerOptions {
  readonly log: Logger;
  readonly events?: EventSink;
  /** Queue a pass of this project. */
  readonly recheck: (projectId: string) => void;
}

export class HandoffTracker {
  readonly #o: HandoffTrackerOptions;
  readonly #waiting = new Map<string, Handoff>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #timedOut = 0;

  constructor(options: HandoffTrackerOptions) {
    this.#o = options;
  }

  /** Account for the handoffs a pass reported. */
  record(handoffs: readonly Handoff[]): void {
    for (const h of handoffs) {
      const fields = {
        project: h.projectName,
        to: h.toShard,
        movedAt: h.movedAt,
        live: h.live,
        written: h.written,
        writtenAt: h.writtenAt,
      };
      clearTimeout(this.#timers.get(h.projectId));
      this.#timers.delete(h.projectId);
      if (h.state === 'waiting') {
        if (!this.#waiting.has(h.projectId))
          this.#o.log.info(
            fields,
            h.writtenAt
              ? 'project moved to another shard, whose live replicas have all written it: keeping its files until the drain ends'
              : 'project moved to another shard: keeping its files until every live replica of that shard has written it',
          );
        this.#waiting.set(h.projectId, h);
        const timer = setTimeout(() => {
          this.#timers.delete(h.projectId);
          this.#o.recheck(h.projectId);
        }, h.recheckInMs + 50);
        timer.unref();
        this.#timers.set(h.projectId, timer);
        continue;
      }
      this.#waiting.delete(h.projectId);
      if (h.state === 'released') {
        this.#o.log.info(fields, 'project moved to another shard, which has written it: its files here are removed');
      } else {
        this.#timedOut++;
        const message = `project ${h.projectName} moved to shard ${h.toShard} at ${h.movedAt.toISOString()}, but ${h.live === 0 ? 'no replica of that shard is running' : `only ${h.written} of its ${h.live} live replicas wrote it`} within SHARD_HANDOFF_TIMEOUT: its files here are removed anyway`;
        this.#o.log.error(fields, message);
        this.#o.events?.emit('SyncFailed', message, 'Warning');
      }
    }
  }

  /** For /api/v1/status: the handoffs waiting, and how many timed out since start. */
  snapshot(): { waiting: Array<Record<string, unknown>>; timedOut: number } {
    return {
      waiting: [...this.#waiting.values()].map((h) => ({
        project: h.projectName,
        to: h.toShard,
        movedAt: h.movedAt.toISOString(),
        liveReplicas: h.live,
        written: h.written,
        writtenAt: h.writtenAt?.toISOString() ?? null,
      })),
      timedOut: this.#timedOut,
    };
  }

  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
