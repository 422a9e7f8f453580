/**
 * Kubernetes Events on this pod (core/v1, involvedObject = Pod POD_NAME in POD_NAMESPACE,
 * source component `traefik-sync`) for the controller's DriftDetected, SyncFailed,
 * SyncRecovered, DeleteGuardBlocked and TraefikRestartNeeded — aggregated and rate limited like client-go's
 * EventCorrelator, so a drift storm never floods the API server:
 *
 * - The same type + reason + message within the window (10 min) is one Event: repeats PATCH
 *   its `count` and `lastTimestamp` (strategic-merge patch, as client-go does) instead of
 *   creating another. An Event the server has already expired (404) is created anew.
 * - More than `maxSimilar` (10) distinct messages for one type + reason within the window go
 *   into a single Event "(combined from similar events): <latest message>".
 * - Every API call takes a token from a bucket (burst 10, one token per 10 s). Occurrences that
 *   find no token wait and are sent as one count update when a token is free.
 * - Calls run one at a time, off the controller's path: `emit` never throws and never waits;
 *   failures are logged (warn) with the event's content. Messages are redacted (src/redact.ts)
 *   and cut to 1024 bytes.
 */
import { CoreV1Api, PatchStrategy, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { EventSink } from '../controller/events.js';
import type { Logger } from '../log.js';
import { realTimers } from '../queue/work-queue.js';
import { redact } from '../redact.js';
import { describeApiError, requestOptions, statusOf, withDeadline, type Timers } from './api.js';
import { TokenBucket } from './token-bucket.js';

type Reason = Parameters<EventSink['emit']>[0];
type EventType = 'Normal' | 'Warning';

export const EVENT_COMPONENT = 'traefik-sync';
/** Longest message sent (bytes of UTF-8; the API limits an Event note to 1 kB). */
export const MAX_MESSAGE_BYTES = 1024;
const COMBINED = '(combined from similar events): ';

export interface KubeEventSinkOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly podName: string;
  /** The pod's UID, so `kubectl describe pod` lists the Events (optional). */
  readonly podUid?: string;
  readonly log: Logger;
  readonly timers?: Timers;
  /** Repeats within this window update one Event (default 10 min). */
  readonly windowMs?: number;
  /** Distinct messages per type + reason within the window before they are combined (default 10). */
  readonly maxSimilar?: number;
  /** Token bucket size (default 10 calls). */
  readonly burst?: number;
  /** One token comes back every this many ms (default 10 s). */
  readonly refillMs?: number;
  /** Deadline of one API call (default 10 s). */
  readonly requestTimeoutMs?: number;
}

/** One Event on the server (or to be created) and the occurrences not yet sent. */
interface Entry {
  readonly reason: Reason;
  readonly type: EventType;
  message: string;
  name: string | null;
  /** Count the server holds. */
  count: number;
  pending: number;
  pendingSince: number;
  sentAt: number;
  lastAt: number;
}

/** Cut `text` to at most `max` bytes of UTF-8 without splitting a character. */
export function clipBytes(text: string, max = MAX_MESSAGE_BYTES): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max - 3) break; // room for '…'
    out += ch;
    bytes += n;
  }
  return `${out}…`;
}

export class KubeEventSink implements EventSink {
  readonly #o: KubeEventSinkOptions;
  readonly #api: CoreV1Api;
  readonly #timers: Timers;
  readonly #windowMs: number;
  readonly #bucket: TokenBucket;
  readonly #entries = new Map<string, Entry>();
  readonly #similar = new Map<string, { since: number; messages: Set<string> }>();
  #seq = 0;
  #timer: unknown;
  #soon = false;
  #pumping: Promise<void> | null = null;

  constructor(options: KubeEventSinkOptions) {
    this.#o = options;
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#timers = options.timers ?? realTimers;
    this.#windowMs = options.windowMs ?? 600_000;
    this.#bucket = new TokenBucket(options.burst ?? 10, options.refillMs ?? 10_000, () => this.#timers.now());
  }

  /** Record one occurrence; the API call happens later, off the caller's path. */
  emit(reason: Reason, message: string, type: EventType = 'Normal'): void {
    try {
      const now = this.#timers.now();
      this.#sweep(now);
      const text = clipBytes(redact(message));
      let key = `${type}\0${reason}\0${text}`;
      let shown = text;
      if (!this.#entries.has(key)) {
        const groupKey = `${type}\0${reason}`;
        const group = this.#similar.get(groupKey) ?? { since: now, messages: new Set<string>() };
        this.#similar.set(groupKey, group);
        if (group.messages.size >= (this.#o.maxSimilar ?? 10) && !group.messages.has(text)) {
          key = `${groupKey}\0*`;
          shown = clipBytes(COMBINED + text);
        } else {
          group.messages.add(text);
        }
      }
      const entry = this.#entries.get(key) ?? {
        reason,
        type,
        message: shown,
        name: null,
        count: 0,
        pending: 0,
        pendingSince: now,
        sentAt: -Infinity,
        lastAt: now,
      };
      this.#entries.set(key, entry);
      if (entry.pending === 0) entry.pendingSince = now;
      entry.message = shown;
      entry.pending++;
      entry.lastAt = now;
      this.#wake(0);
    } catch (err) {
      this.#o.log.warn({ err, reason }, 'could not queue Kubernetes Event');
    }
  }

  /** Resolves when no call is in flight or due now (occurrences waiting for a token may remain). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#pumping) await this.#pumping;
      else if (this.#soon) await Promise.resolve();
      else return;
    }
  }

  /** Forget Events and message groups the window has left behind. */
  #sweep(now: number): void {
    for (const [key, e] of this.#entries) {
      if (e.pending === 0 && now - Math.max(e.sentAt, e.lastAt) >= this.#windowMs) this.#entries.delete(key);
    }
    for (const [key, g] of this.#similar) if (now - g.since >= this.#windowMs) this.#similar.delete(key);
  }

  #wake(delayMs: number): void {
    if (this.#pumping) return;
    if (delayMs === 0) {
      if (this.#soon) return;
      this.#soon = true;
      queueMicrotask(() => {
        this.#soon = false;
        this.#startPump();
      });
    } else if (this.#timer === undefined) {
      this.#timer = this.#timers.setTimeout(() => {
        this.#timer = undefined;
        this.#startPump();
      }, delayMs);
      // Waiting for a token must not keep a stopping process alive.
      (this.#timer as { unref?: () => void } | null)?.unref?.();
    }
  }

  #startPump(): void {
    if (this.#pumping) return;
    this.#pumping = this.#pump()
      .catch((err) => {
        this.#o.log.warn({ err }, 'Kubernetes Event writer failed');
        return 0;
      })
      .then((waitMs) => {
        this.#pumping = null;
        // Occurrences that arrived after the last look, or that wait for a token.
        if ([...this.#entries.values()].some((e) => e.pending > 0)) this.#wake(waitMs);
      });
  }

  /** Send pending occurrences, oldest first, while tokens last; returns ms until the next token (0 if done). */
  async #pump(): Promise<number> {
    for (;;) {
      let next: Entry | undefined;
      for (const e of this.#entries.values()) if (e.pending > 0 && (!next || e.pendingSince < next.pendingSince)) next = e;
      if (!next) return 0;
      const waitMs = this.#bucket.take();
      if (waitMs > 0) return waitMs;
      await this.#send(next);
    }
  }

  async #send(e: Entry): Promise<void> {
    const n = e.pending;
    e.pending = 0;
    const now = this.#timers.now();
    const { namespace } = this.#o;
    try {
      if (e.name && now - e.sentAt < this.#windowMs) {
        const name = e.name;
        const patch = { count: e.count + n, lastTimestamp: new Date(now), message: e.message };
        try {
          await this.#call((signal) =>
            this.#api.patchNamespacedEvent({ name, namespace, body: patch }, requestOptions(signal, PatchStrategy.StrategicMergePatch)),
          );
          e.count += n;
          e.sentAt = now;
          return;
        } catch (err) {
          if (statusOf(err) !== 404) throw err; // else: expired on the server; create a new one
        }
      }
      const body = this.#event(e, n, now);
      await this.#call((signal) => this.#api.createNamespacedEvent({ namespace, body }, requestOptions(signal)));
      e.name = body.metadata!.name!;
      e.count = n;
      e.sentAt = now;
    } catch (err) {
      this.#o.log.warn(
        { reason: e.reason, type: e.type, event: e.message, count: n, error: describeApiError(err) },
        'could not write Kubernetes Event',
      );
    }
  }

  #call<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return withDeadline(this.#timers, this.#o.requestTimeoutMs ?? 10_000, fn);
  }

  #event(e: Entry, count: number, now: number): CoreV1Event {
    const { namespace, podName, podUid } = this.#o;
    // client-go names Events "<object>.<unix nanos in hex>".
    const suffix = (BigInt(Math.floor(now)) * 1_000_000n + BigInt(this.#seq++ % 1_000_000)).toString(16);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${podName.slice(0, 230)}.${suffix}`, namespace },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: podName, namespace, ...(podUid ? { uid: podUid } : {}) },
      reason: e.reason,
      message: e.message,
      type: e.type,
      source: { component: EVENT_COMPONENT },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: podName,
      firstTimestamp: new Date(now),
      lastTimestamp: new Date(now),
      count,
    };
  }
}
