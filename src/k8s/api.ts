/**
 * Small helpers around `@kubernetes/client-node` 1.x shared by the Lease and Event code:
 * per-request deadlines driven by an injectable clock (so a hung API server cannot stall the
 * leader loop, and tests can use a fake clock), a Content-Type override for PATCH (the client's
 * default is JSON Patch), and error classification from the API server's `Status` body.
 */
import { Observable, type ConfigurationOptions, type ObservableMiddleware } from '@kubernetes/client-node';
import { redact } from '../redact.js';
import type { Timers } from '../queue/work-queue.js';

export type { Timers };

/** Per-call options: abort on `signal`, optionally with another Content-Type. */
export function requestOptions(signal: AbortSignal, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(ctx) {
      ctx.setSignal(signal);
      if (contentType) ctx.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(ctx));
    },
    post: (res) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** Thrown when a call's deadline passed before the API server answered. */
export class ApiTimeoutError extends Error {
  override readonly name = 'ApiTimeoutError';
}

/**
 * Run `call` with a deadline of `ms` on `timers`; the request is aborted when it passes (or when
 * `outer` aborts, e.g. on stop), and the returned promise rejects with ApiTimeoutError.
 */
export async function withDeadline<T>(
  timers: Timers,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const ac = new AbortController();
  let timedOut = false;
  const handle = timers.setTimeout(
    () => {
      timedOut = true;
      ac.abort();
    },
    Math.max(0, ms),
  );
  const onOuter = () => ac.abort();
  outer?.addEventListener('abort', onOuter, { once: true });
  if (outer?.aborted) ac.abort();
  try {
    return await call(ac.signal);
  } catch (err) {
    if (timedOut) throw new ApiTimeoutError(`no answer from the Kubernetes API within ${Math.round(ms)} ms`);
    throw err;
  } finally {
    timers.clearTimeout(handle);
    outer?.removeEventListener('abort', onOuter);
  }
}

/** The HTTP status of a failed API call (undefined for network errors and timeouts). */
export function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The `reason` of the API server's Status body (`NotFound`, `AlreadyExists`, `Conflict`, …). */
export function reasonOf(err: unknown): string | undefined {
  return statusBody(err)?.reason;
}

function statusBody(err: unknown): { reason?: string; message?: string } | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'object' && body !== null) return body as { reason?: string; message?: string };
  if (typeof body !== 'string') return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as { reason?: string; message?: string }) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A one-line description of a failed call for logs: "409 Conflict: <server message>", the
 * timeout, or the network error — never the client's multi-line dump of headers.
 */
export function describeApiError(err: unknown): string {
  const code = statusOf(err);
  if (code !== undefined) {
    const body = statusBody(err);
    return redact(`HTTP ${code}${body?.reason ? ` ${body.reason}` : ''}${body?.message ? `: ${body.message}` : ''}`);
  }
  if (err instanceof Error) return redact(err.message || err.name);
  return redact(String(err));
}
