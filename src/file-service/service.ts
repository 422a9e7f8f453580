/**
 * TraefikFileSystemService (docs/design.md): read-only access to the generated configuration files.
 * Read-only by construction: it has no method that writes, and it opens files read-only. Every
 * path goes through {@link resolveSafePath}; answers say whether a file is ours (header) and in
 * sync with the database (traefik_configs checksum).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sql, type Queryable } from '../db/connect.js';
import { DNS_LABEL } from '../model.js';
import { checksumOf, readHeader } from '../render/serialize.js';
import { unifiedDiff } from '../reconcile/diff.js';
import { maskSecrets } from '../redact.js';
import { FileServiceError, badPath, quoteInput } from './errors.js';
import { LIMITS, intIn } from './limits.js';
import { resolveSafePath } from './paths.js';
import { DEFAULT_MAX_FILE_BYTES, holdsPrivateKey, readSafeFile } from './read.js';
import { buildTree } from './tree.js';
import type { DirectoryTree, FileContent, FileDiff, FileDownload, TreeOptions } from './types.js';

/** Options of {@link TraefikFileSystemService}. */
export interface FileSystemServiceOptions {
  /** The config root (the shared volume). */
  readonly root: string;
  /** Database for in-sync checks and diffs; without it `inSync` is null and diffs are refused (503). */
  readonly db?: Queryable;
  /** Largest file served (bytes); larger ones are refused with 413. Default 5 MiB. */
  readonly maxFileBytes?: number;
  /** Entries in one listing at most, nested levels included. Default 2000. */
  readonly maxEntries?: number;
  /**
   * Longest wait for the checksum recorded in traefik_configs (ms, default 1000): the content
   * comes from disk, only `inSync` needs the database; when it does not answer, `inSync` is null.
   */
  readonly syncCheckTimeoutMs?: number;
  /** Longest wait for the recorded content a diff needs (ms, default 5000); then 503. */
  readonly diffTimeoutMs?: number;
}

/** Read-only browsing of the config root. */
export class TraefikFileSystemService {
  readonly #root: string;
  readonly #db: Queryable | undefined;
  readonly #maxFileBytes: number;
  readonly #maxEntries: number;
  readonly #syncCheckTimeoutMs: number;
  readonly #diffTimeoutMs: number;
  /** Queries given up on that are still running. */
  #abandoned = 0;

  constructor(options: FileSystemServiceOptions) {
    this.#root = path.resolve(options.root);
    this.#db = options.db;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.#maxEntries = options.maxEntries ?? 2000;
    this.#syncCheckTimeoutMs = options.syncCheckTimeoutMs ?? 1000;
    this.#diffTimeoutMs = options.diffTimeoutMs ?? 5000;
  }

  /** The config root this service reads. */
  get root(): string {
    return this.#root;
  }

  /**
   * The directory tree at `dirPath` (default: the config root), bounded by depth, a page of the
   * directory's own entries (`offset`/`limit`) and a total entry budget; `truncated` tells when
   * anything was cut. 400/403/404 as {@link resolveSafePath}; 400 when the path is a file.
   */
  async getTraefikFileSystem(dirPath?: string, options: TreeOptions = {}): Promise<DirectoryTree> {
    const bounds = {
      depth: intIn('depth', options.depth, LIMITS.depth),
      offset: intIn('offset', options.offset, LIMITS.offset),
      limit: intIn('limit', options.limit, LIMITS.limit),
      maxEntries: this.#maxEntries,
    };
    const sp = await resolveSafePath(this.#root, dirPath ?? '');
    return buildTree(sp, bounds);
  }

  /** The tree of one project's directory, `dynamic/<projectName>`; 400 for a name that is not a project name. */
  async getProjectFileSystem(projectName: string, options: TreeOptions = {}): Promise<DirectoryTree> {
    if (!DNS_LABEL.test(projectName)) {
      throw new FileServiceError(
        400,
        `project name ${quoteInput(projectName)} refused: expected lower-case letters, digits and "-" (at most 63)`,
      );
    }
    return this.getTraefikFileSystem(`dynamic/${projectName}`, options);
  }

  /** Project directories under `dynamic/`, sorted ([] before the first sync). */
  async listProjects(): Promise<string[]> {
    const sp = await resolveSafePath(this.#root, 'dynamic').catch((err: unknown) => {
      if (err instanceof FileServiceError && err.status === 404) return null;
      throw err;
    });
    if (!sp) return [];
    const entries = await readdir(sp.real, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && DNS_LABEL.test(e.name))
      .map((e) => e.name)
      .sort();
  }

  /**
   * A file's text and state: checksum, size, modification time, ownership (header) and whether it
   * is in sync with traefik_configs. 400 for directories and non-regular files, 403 for key
   * material (by path or content), 404 when missing, 413 above the size limit.
   */
  async getFileContent(filePath: string): Promise<FileContent> {
    const sp = await resolveSafePath(this.#root, this.#required(filePath));
    const { data, stat } = await readSafeFile(sp, this.#maxFileBytes);
    const text = data.toString('utf8');
    // The bytes on disk, not the decoded text: invalid UTF-8 would be hashed as U+FFFD otherwise.
    // (For valid UTF-8 the two agree, so traefik_configs' checksums of the text still compare.)
    const checksum = checksumOf(data);
    const header = readHeader(text);
    const recorded = await this.#recordedChecksum(sp.realRel);
    // Never a secret (docs/contract.md §9): credentials in route settings are masked.
    const { text: content, masked } = maskSecrets(text);
    return {
      path: sp.rel,
      content,
      masked,
      checksum,
      size: stat.size,
      modifiedAt: stat.mtime.toISOString(),
      owned: header.owned,
      projectId: header.projectId,
      inSync: recorded === undefined ? null : recorded === checksum,
      recordedChecksum: recorded ?? null,
    };
  }

  /**
   * A file's bytes for download; the same refusals as {@link getFileContent}. Like the content,
   * with its secrets masked (the API never hands out a secret, docs/contract.md §9): a file
   * holding none comes byte for byte; `masked` counts the values replaced, and `checksum` is
   * the file's on disk either way.
   */
  async downloadFile(filePath: string): Promise<FileDownload> {
    const sp = await resolveSafePath(this.#root, this.#required(filePath));
    const { data, stat } = await readSafeFile(sp, this.#maxFileBytes);
    const { text, masked } = maskSecrets(data.toString('utf8'));
    return {
      path: sp.rel,
      filename: path.posix.basename(sp.rel),
      data: masked ? Buffer.from(text, 'utf8') : data,
      masked,
      size: stat.size,
      checksum: checksumOf(data),
      modifiedAt: stat.mtime.toISOString(),
    };
  }

  /**
   * The database's content (traefik_configs) against the disk as a unified diff (`a/` disk,
   * `b/` database). A path missing on one side diffs against nothing; 404 when neither has it;
   * 503 without a database. Key material is never read (403).
   */
  async getFileDiff(filePath: string): Promise<FileDiff> {
    const requested = this.#required(filePath);
    const db = this.#db;
    if (!db) throw new FileServiceError(503, 'no database configured: the diff needs traefik_configs');
    let disk: Buffer | null = null;
    let rel = requested;
    let dbPath = requested;
    try {
      const sp = await resolveSafePath(this.#root, requested);
      rel = sp.rel;
      dbPath = sp.realRel;
      disk = (await readSafeFile(sp, this.#maxFileBytes)).data;
    } catch (err) {
      // Missing on disk (drift "missing") diffs against nothing; every other refusal stands.
      if (!(err instanceof FileServiceError && err.status === 404 && !err.message.startsWith('the config root'))) throw err;
    }
    const rows = await this.#bounded(
      () => db.query(sql`SELECT content FROM traefik_configs WHERE file_path = ${dbPath}`),
      this.#diffTimeoutMs,
    );
    if (rows === TIMED_OUT)
      throw new FileServiceError(
        503,
        `the database is not answering (no answer within ${this.#diffTimeoutMs / 1000} s): the diff needs traefik_configs; try again later`,
      );
    const recorded = rows.length > 0 ? (rows[0]!.content as string) : null;
    if (disk === null && recorded === null)
      throw new FileServiceError(404, `no such file on disk or in traefik_configs: ${quoteInput(requested)}`);
    if (recorded !== null && holdsPrivateKey(Buffer.from(recorded)))
      throw new FileServiceError(403, `path ${quoteInput(requested)} refused: the recorded file holds private key material`);
    const inSync = disk !== null && recorded !== null && checksumOf(disk) === checksumOf(recorded);
    const op = disk === null ? 'create' : recorded === null ? 'delete' : 'update';
    const diff = inSync ? '' : unifiedDiff({ projectName: null, path: rel, op, before: disk?.toString('utf8') ?? null, after: recorded });
    return { path: rel, recorded: recorded !== null, onDisk: disk !== null, inSync, diff };
  }

  #required(filePath: string | null | undefined): string {
    if (filePath === undefined || filePath === null || filePath === '')
      throw badPath('', 'a file path is required (?path=dynamic/<project>/domains.yml)');
    return filePath;
  }

  /**
   * The checksum recorded for a path: string, null (no row), undefined (no database, or it failed
   * or did not answer within the sync-check timeout). A query given up on settles later unobserved
   * (it cannot reject unhandled: its failure is already mapped to undefined).
   */
  async #recordedChecksum(rel: string): Promise<string | null | undefined> {
    const db = this.#db;
    if (!db) return undefined;
    const checksum = await this.#bounded(
      () =>
        db.query(sql`SELECT checksum FROM traefik_configs WHERE file_path = ${rel}`).then(
          (rows) => (rows.length > 0 ? (rows[0]!.checksum as string) : null),
          () => undefined,
        ),
      this.#syncCheckTimeoutMs,
    );
    return checksum === TIMED_OUT ? undefined : checksum;
  }

  /**
   * A query's value, or TIMED_OUT after `ms`. A query given up on keeps its pool connection (which
   * the controller shares) until the pool's own query timeout, so while one is outstanding no
   * new one is started: the answer is TIMED_OUT at once. Its late rejection is swallowed.
   */
  async #bounded<T>(query: () => Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
    if (this.#abandoned > 0) return TIMED_OUT;
    const work = query();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(resolve, ms, TIMED_OUT);
    });
    try {
      const value = await Promise.race([work, gaveUp]);
      if (value === TIMED_OUT) {
        this.#abandoned++;
        const release = () => {
          this.#abandoned--;
        };
        work.then(release, release);
      }
      return value;
    } finally {
      clearTimeout(timer);
    }
  }
}

const TIMED_OUT = Symbol('timed out');
