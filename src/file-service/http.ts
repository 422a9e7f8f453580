/**
 * The read-only file API over HTTP (docs/contract.md §5): projects, directory trees, file content, downloads,
 * database-vs-disk diffs and drift records. Refusals are JSON `{error}` with the service's status.
 */
import type { ServerResponse } from 'node:http';
import type { Queryable } from '../db/connect.js';
import { messageOf } from '../errors.js';
import { sendJson, type Handler } from '../observability/http.js';
import { redact } from '../redact.js';
import { listDriftRecords } from './drift.js';
import { FileServiceError } from './errors.js';
import { LIMITS, intIn, type IntRange } from './limits.js';
import { LONE_PERCENT } from './paths.js';
import type { TraefikFileSystemService } from './service.js';

/** One query parameter, given at most once (a repeated parameter is refused: which one would win?). */
function param(url: URL, name: string): string | undefined {
  // URLSearchParams would keep a malformed escape as a literal "%": refuse it, so that a "%" in a
  // value always came from %25 (a file named 100%.yml is asked for as path=100%25.yml).
  if (LONE_PERCENT.test(url.search))
    throw new FileServiceError(400, 'malformed percent-encoding in the query string (write a literal "%" as %25)');
  const all = url.searchParams.getAll(name);
  if (all.length > 1) throw new FileServiceError(400, `query parameter ${name} given ${all.length} times; give it once`);
  return all[0];
}

/** An integer query parameter within its range (400 stating the range otherwise); undefined when absent. */
function intParam(url: URL, name: string, range: IntRange): number | undefined {
  const v = param(url, name);
  return v === undefined ? undefined : intIn(name, v, range);
}

/**
 * `content-disposition` for a download: an ASCII-only quoted `filename` (anything else becomes
 * `_`, so no quote, backslash or line break can end the header value early) plus the RFC 5987
 * `filename*` with the exact UTF-8 name.
 */
export function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'download';
  const exact = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

function isErrno(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : null;
}

/** Run a handler; refusals become JSON errors naming the problem, never a stack or a file's bytes. */
function guarded(fn: (url: URL, res: ServerResponse) => Promise<void>): Handler {
  return async (_req, res, url) => {
    try {
      await fn(url, res);
    } catch (err) {
      if (res.headersSent) throw err;
      if (err instanceof FileServiceError) return sendJson(res, err.status, { error: err.message });
      const code = isErrno(err);
      if (code) return sendJson(res, 500, { error: `file system error ${code} while reading the config root` });
      throw err;
    }
  };
}

/** Database work for a request: failures answer 503 with the (redacted) reason. */
async function fromDatabase<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof FileServiceError) throw err;
    throw new FileServiceError(503, `database unavailable: ${redact(messageOf(err)).slice(0, 200)}`);
  }
}

/** Options of {@link fileApiRoutes}. */
export interface FileApiOptions {
  /** Database for drift records (GET /api/v1/drift answers 503 without it). */
  readonly db?: Queryable;
}

/** The file API's routes by path. */
export function fileApiRoutes(service: TraefikFileSystemService, options: FileApiOptions = {}): Map<string, Handler> {
  return new Map<string, Handler>([
    [
      '/api/v1/projects',
      guarded(async (_url, res) => {
        sendJson(res, 200, await service.listProjects()); // docs/contract.md §5: a JSON list
      }),
    ],
    [
      '/api/v1/files',
      guarded(async (url, res) => {
        const project = param(url, 'project');
        const rel = param(url, 'path');
        const bounds = {
          depth: intParam(url, 'depth', LIMITS.depth),
          offset: intParam(url, 'offset', LIMITS.offset),
          limit: intParam(url, 'limit', LIMITS.limit),
        };
        if (project !== undefined && rel !== undefined) throw new FileServiceError(400, 'give either path or project, not both');
        const tree =
          project !== undefined
            ? await service.getProjectFileSystem(project, bounds)
            : await service.getTraefikFileSystem(rel ?? '', bounds);
        sendJson(res, 200, tree);
      }),
    ],
    [
      '/api/v1/files/content',
      guarded(async (url, res) => {
        sendJson(res, 200, await service.getFileContent(param(url, 'path') ?? ''));
      }),
    ],
    [
      '/api/v1/files/download',
      guarded(async (url, res) => {
        const file = await service.downloadFile(param(url, 'path') ?? '');
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': file.data.length,
          'content-disposition': contentDisposition(file.filename),
          'x-content-type-options': 'nosniff',
          'content-security-policy': "default-src 'none'; sandbox",
          'cache-control': 'no-store',
          'x-checksum': file.checksum,
          'x-masked-values': String(file.masked),
        });
        res.end(file.data);
      }),
    ],
    [
      '/api/v1/diff',
      guarded(async (url, res) => {
        sendJson(res, 200, await fromDatabase(() => service.getFileDiff(param(url, 'path') ?? '')));
      }),
    ],
    [
      '/api/v1/drift',
      guarded(async (url, res) => {
        const db = options.db;
        if (!db) throw new FileServiceError(503, 'no database configured: drift records live in drift_events');
        const limit = intParam(url, 'limit', LIMITS.driftLimit);
        const replica = param(url, 'replica');
        const records = await fromDatabase(() => listDriftRecords(db, { limit, replica }));
        sendJson(res, 200, { records });
      }),
    ],
  ]);
}
