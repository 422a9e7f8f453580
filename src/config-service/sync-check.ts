/**
 * The seed's "real-time preview" and the synced check: the files a project's state (current, or
 * changed by a spec) would generate, rendered by the real renderer and written nowhere; and a wait
 * until traefik_configs holds exactly the checksums of the project's current render.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '../db/connect.js';
import { loadProjects } from '../db/load.js';
import { loadRecorded } from '../db/records.js';
import { UserError } from '../errors.js';
import type { RenderedFile } from '../model.js';
import { renderProject, type RenderOptions } from '../render/project.js';
import type { ValidationIssue } from './errors.js';

/** A file of a preview. Private keys have their content replaced. */
export interface PreviewFile {
  readonly path: string;
  readonly content: string;
  readonly checksum: string;
  readonly configType: RenderedFile['configType'];
  /** Compared with the files last written by the controller (traefik_configs). */
  readonly status: 'created' | 'updated' | 'unchanged';
}

/** What a project's (changed) state would generate. */
export interface PreviewResult {
  readonly project: string;
  /** Empty when `problems` is not. */
  readonly files: PreviewFile[];
  /** Files last written that would be removed. */
  readonly deleted: string[];
  /** Why the state cannot be written (then the controller keeps the last good files). */
  readonly problems: ValidationIssue[];
}

/** Placeholder for private key content in previews. */
export const MASKED_KEY = '(private key, not shown)\n';

/** Compare a rendering with the files last written (path → checksum, from traefik_configs). */
export function previewOf(
  project: string,
  files: readonly RenderedFile[],
  written: ReadonlyMap<string, string>,
  problems: ValidationIssue[],
): PreviewResult {
  const paths = new Set(files.map((f) => f.path));
  return {
    project,
    files: problems.length
      ? []
      : files.map((f) => ({
          path: f.path,
          content: f.configType === 'key' ? MASKED_KEY : f.content,
          checksum: f.checksum,
          configType: f.configType,
          status: !written.has(f.path) ? 'created' : written.get(f.path) === f.checksum ? 'unchanged' : 'updated',
        })),
    deleted: problems.length ? [] : [...written.keys()].filter((p) => !paths.has(p)).sort(),
    problems,
  };
}

/** Files last written for a project (traefik_configs): path → checksum. */
export async function writtenFiles(db: Queryable, projectId: string): Promise<Map<string, string>> {
  return new Map([...(await loadRecorded(db, [projectId]))].map(([path, r]) => [path, r.checksum]));
}

/** The files of a project's current state, rendered as the controller renders them (null: no such project). */
export async function currentFiles(
  db: Queryable,
  projectId: string,
  render: RenderOptions,
): Promise<{ files: RenderedFile[]; problems: string[] } | null> {
  const [state] = await loadProjects(db, [projectId]);
  if (!state) return null;
  const r = renderProject(state, render);
  return { files: r.files, problems: r.problems };
}

/** Options of {@link waitForSync}. */
export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Poll interval (default 100 ms). */
  readonly intervalMs?: number;
}

/** The project did not reach its current render in time. */
export class SyncTimeoutError extends UserError {
  constructor(message: string) {
    super(message, 1);
    Object.defineProperty(this, 'name', { value: 'SyncTimeoutError' });
  }
}

/**
 * Resolve when `traefik_configs` records exactly the files (by checksum) of the project's current
 * state — i.e. a controller has written them. A deleted project is synced once its records are
 * gone. Rejects at once when the state cannot render (the controller would keep the old files),
 * and with {@link SyncTimeoutError} after `timeoutMs`.
 */
export async function waitForSync(db: Queryable, projectId: string, render: RenderOptions, options: WaitOptions = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const [want, recorded] = await Promise.all([currentFiles(db, projectId, render), loadRecorded(db, [projectId])]);
    if (want?.problems.length) {
      throw new UserError(`project ${projectId} cannot be rendered, so it will not sync: ${want.problems.slice(0, 3).join('; ')}`);
    }
    const files = want?.files ?? [];
    const missing = files.filter((f) => recorded.get(f.path)?.checksum !== f.checksum);
    const extra = [...recorded.keys()].filter((p) => !files.some((f) => f.path === p));
    if (missing.length === 0 && extra.length === 0) return;
    if (Date.now() >= deadline) {
      throw new SyncTimeoutError(
        `project ${projectId} not in sync after ${options.timeoutMs ?? 30_000} ms: ` +
          `${missing.length} file(s) not yet written with the current content${
            missing.length
              ? ` (${missing
                  .slice(0, 3)
                  .map((f) => f.path)
                  .join(', ')})`
              : ''
          }, ` +
          `${extra.length} to be removed; is the controller running with the same config dir?`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
