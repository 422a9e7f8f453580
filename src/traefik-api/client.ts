/**
 * Traefik's API, read-only (checked against Traefik 3.0.4 and 3.7.15, pkg/api/):
 *
 * - `/api/overview`: per kind, `total`, `warnings`, `errors`; the providers running.
 * - `/api/http/{routers,services,middlewares}`: lists sorted by name, paged (`per_page`, `page`,
 *   next page in `X-Next-Page`, 1 after the last), filtered by `status` (enabled, disabled,
 *   warning) and `search` (a case-insensitive substring of the name, or of a router's rule).
 *   There is no provider filter (`provider=` is ignored); `sortBy=provider` sorts by it.
 * - `/api/http/<kind>/<name@provider>`: one object, 404 when Traefik does not have it.
 *
 * Objects are keyed `name@provider`; a router's `service` is as written (unqualified for its own
 * provider) while its `middlewares` are qualified. Every request has a deadline; bytes read are
 * counted (the cost of a check, README "Traefik in the loop").
 */
import { JsonArraySplitter } from './json-stream.js';

/** The three kinds of HTTP objects, as in the API's paths. */
export type Kind = 'routers' | 'services' | 'middlewares';
export const KINDS: readonly Kind[] = ['routers', 'services', 'middlewares'];

/** One object of a list: Traefik's runtime object plus `name`, `provider`, `status`. */
export interface ApiObject {
  readonly name: string;
  readonly provider?: string;
  readonly status?: string;
  readonly error?: readonly string[];
  readonly [key: string]: unknown;
}

/** Counts of one kind in /api/overview. */
export interface KindCounts {
  readonly total: number;
  readonly warnings: number;
  readonly errors: number;
}

/** The parts of /api/overview read here. */
export interface Overview {
  readonly http: Readonly<Record<Kind, KindCounts>>;
  /** Providers running besides `internal`, as Traefik names them there ("File", "KubernetesCRD"). */
  readonly providers: readonly string[];
}

/** Traefik did not answer as its API does (unreachable, timed out, an HTTP error). */
export class TraefikApiError extends Error {}

export interface TraefikApiOptions {
  /** `http://127.0.0.1:8080` (TRAEFIK_API_URL). */
  readonly baseUrl: string;
  /** Deadline of one request (default 5 s; a streamed list gets 12 times as long). */
  readonly timeoutMs?: number;
}

/** A reader of Traefik's API. */
export class TraefikApi {
  readonly #base: string;
  readonly #timeoutMs: number;
  /** Bytes of response bodies read so far. */
  bytesRead = 0;
  /** Requests made so far. */
  requests = 0;

  constructor(options: TraefikApiOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  async #fetch(path: string, timeoutMs = this.#timeoutMs): Promise<Response> {
    this.requests++;
    let res: Response;
    try {
      res = await fetch(this.#base + path, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new TraefikApiError(`Traefik's API at ${this.#base} did not answer ${path}: ${cause}`);
    }
    return res;
  }

  async #json(path: string): Promise<{ body: unknown; res: Response } | null> {
    const res = await this.#fetch(path);
    const text = await res.text().catch((err: unknown) => {
      throw new TraefikApiError(`Traefik's API at ${this.#base}: reading ${path} failed: ${(err as Error).name}`);
    });
    this.bytesRead += Buffer.byteLength(text);
    if (res.status === 404) return null;
    if (!res.ok)
      throw new TraefikApiError(`Traefik's API at ${this.#base} answered ${path} with HTTP ${res.status}: ${text.slice(0, 200)}`);
    try {
      return { body: JSON.parse(text), res };
    } catch {
      throw new TraefikApiError(`Traefik's API at ${this.#base} answered ${path} with something other than JSON`);
    }
  }

  /** /api/overview. */
  async overview(): Promise<Overview> {
    const got = await this.#json('/api/overview');
    const body = got?.body as { http?: Record<Kind, KindCounts>; providers?: string[] } | undefined;
    if (!body?.http) throw new TraefikApiError(`Traefik's API at ${this.#base}: /api/overview has no "http" counts`);
    return { http: body.http, providers: body.providers ?? [] };
  }

  /**
   * Every object of a kind matching `query` (`status`, `search`, `sortBy`, …), page by page;
   * `stopAfter` ends the reading after a page it returns true for.
   */
  async list(
    kind: Kind,
    query: Readonly<Record<string, string>> = {},
    perPage = 500,
    stopAfter: (page: readonly ApiObject[]) => boolean = () => false,
  ): Promise<ApiObject[]> {
    const out: ApiObject[] = [];
    for (let page = 1; ;) {
      const qs = new URLSearchParams({ ...query, per_page: String(perPage), page: String(page) });
      const got = await this.#json(`/api/http/${kind}?${qs}`);
      if (!got || !Array.isArray(got.body)) throw new TraefikApiError(`Traefik's API: /api/http/${kind} did not answer a list`);
      out.push(...(got.body as ApiObject[]));
      const next = Number(got.res.headers.get('x-next-page') ?? 1);
      if (!(next > page) || stopAfter(got.body as ApiObject[])) break;
      page = next;
    }
    return out;
  }

  /**
   * Every object of a kind in one request, handed to `onObject` one at a time as the answer
   * streams in (sorted by name): Traefik filters and sorts its whole list for every page asked,
   * so one page of everything costs it least, and nothing here holds the whole answer.
   */
  async stream(kind: Kind, onObject: (o: ApiObject) => void): Promise<void> {
    const path = `/api/http/${kind}?per_page=100000000`;
    const res = await this.#fetch(path, this.#timeoutMs * 12);
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => {});
      throw new TraefikApiError(`Traefik's API at ${this.#base} answered ${path} with HTTP ${res.status}`);
    }
    const splitter = new JsonArraySplitter((text) => onObject(JSON.parse(text) as ApiObject));
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        this.bytesRead += chunk.byteLength;
        splitter.feed(decoder.decode(chunk, { stream: true }));
      }
      splitter.feed(decoder.decode());
    } catch (err) {
      if (err instanceof TraefikApiError) throw err;
      throw new TraefikApiError(`Traefik's API at ${this.#base}: reading ${path} failed: ${(err as Error).message}`);
    }
    if (!splitter.done) throw new TraefikApiError(`Traefik's API at ${this.#base}: ${path} ended early`);
  }

  /** One object by its full name (`name@provider`), or null when Traefik does not have it. */
  async get(kind: Kind, fullName: string): Promise<ApiObject | null> {
    const got = await this.#json(`/api/http/${kind}/${encodeURIComponent(fullName)}`);
    return got ? ({ ...(got.body as object), name: fullName } as ApiObject) : null;
  }
}
