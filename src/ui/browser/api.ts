/**
 * The sidecar's JSON API as the operator page reads it: the fields it shows (the server's types
 * are in src/file-service/types.ts and src/controller/replica-state.ts) and one way to GET them.
 */

/** How a file drifted from what the database wants. */
export type DriftKind = 'modified' | 'missing' | 'unexpected';

/** An object of a project that Traefik reports in error or warning, with Traefik's messages. */
export interface TraefikError {
  readonly kind: 'router' | 'service' | 'middleware';
  readonly name: string;
  readonly status: string;
  readonly messages: readonly string[];
}

/** A router of someone else that Traefik serves for one of a project's hosts. */
export interface Shadow {
  readonly router: string;
  readonly rule: string;
  readonly host: string;
  readonly source: string;
}

/** One project's entry in /api/v1/status. */
export interface ProjectStatus {
  readonly name: string | null;
  readonly inSync: boolean;
  readonly drift: ReadonlyArray<{ readonly path: string; readonly kind: DriftKind; readonly repaired: boolean }>;
  readonly lastError: string | null;
  readonly lastSyncAt: string | null;
  /** Traefik serves what was written (null: its API is not read, or not compared yet). */
  readonly live?: boolean | null;
  readonly liveDetail?: string | null;
  readonly traefikErrors?: readonly TraefikError[];
  readonly shadowedBy?: readonly Shadow[];
}

/** What the sidecar knows of Traefik (null from a controller without it). */
export interface TraefikStatus {
  readonly apiRead: boolean;
  readonly up: boolean | null;
  readonly pending: number;
  readonly configLagSeconds: number;
  readonly unownedFiles: readonly string[];
}

/** /api/v1/status: this replica's health, its projects by id, and its unrepaired drift. */
export interface Status {
  readonly replica: string;
  readonly leader: boolean;
  readonly ready: boolean;
  readonly databaseUp: boolean;
  readonly listenConnected: boolean;
  readonly queueDepth: number;
  readonly lastSyncAt: string | null;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly deleteGuardBlocked: boolean;
  /** Whether Traefik must restart to read the static config on the volume. */
  readonly traefikRestart?: { readonly needed: boolean; readonly since: string | null; readonly reason: string | null };
  readonly drift: ReadonlyArray<{ readonly path: string; readonly kind: DriftKind }>;
  readonly projects: Readonly<Record<string, ProjectStatus>>;
  readonly traefik?: TraefikStatus | null;
}

/** One drift record of /api/v1/drift (any replica). */
export interface DriftRecord {
  readonly replica: string;
  readonly project: string | null;
  readonly file: string;
  readonly kind: DriftKind;
  readonly detectedAt: string;
  readonly repaired: boolean;
  readonly repairedAt: string | null;
}

/** An entry of a /api/v1/files listing. */
export interface TreeEntry {
  readonly name: string;
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  /** Files only: the file starts with traefik-sync's header. */
  readonly owned?: boolean;
  /** Key material: listed by name, never opened. */
  readonly restricted?: boolean;
  /** Symlinks only: where it points (null when broken). */
  readonly target?: string | null;
  /** Directories within the listing's depth: their entries (a page of them) and how many there are. */
  readonly children?: readonly TreeEntry[];
  readonly total?: number;
}

/** A /api/v1/files listing: a page of a directory's entries. */
export interface DirectoryTree {
  readonly children: readonly TreeEntry[];
  readonly total: number;
  /** Where the next page starts; null when this page is the last. */
  readonly nextOffset: number | null;
}

/** /api/v1/files/content: a file's text and whether it matches the database. */
export interface FileContent {
  readonly content: string;
  readonly checksum: string;
  readonly size: number;
  readonly modifiedAt: string;
  readonly owned: boolean;
  /** null: the database state is unknown. */
  readonly inSync: boolean | null;
  readonly recordedChecksum: string | null;
}

/** /api/v1/diff: a file on disk against what the database wants. */
export interface FileDiff {
  readonly recorded: boolean;
  readonly onDisk: boolean;
  readonly inSync: boolean;
  readonly diff: string;
}

/** The body of a refusal (4xx/5xx), or of an answer that was not JSON. */
export interface ApiError {
  readonly error?: string;
}

/** An answer: the body is T when the status is 2xx (the API always answers JSON then). */
export type Answer<T> =
  | { readonly status: number; readonly ok: true; readonly body: T }
  | { readonly status: number; readonly ok: false; readonly body: ApiError };

/** GET a JSON endpoint: resolves {status, ok, body}; body is {error} when the answer is not JSON. */
export function getJson<T>(url: string): Promise<Answer<T>> {
  return fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' }).then((res) =>
    res
      .json()
      .catch(() => ({ error: `HTTP ${res.status}` }))
      .then((body: unknown) => ({ status: res.status, ok: res.ok, body }) as Answer<T>),
  );
}

/** The URL of a file API endpoint for one path (relative to the config root). */
export function apiUrl(endpoint: 'files/content' | 'files/download' | 'diff', path: string): string {
  return `/api/v1/${endpoint}?path=${encodeURIComponent(path)}`;
}
