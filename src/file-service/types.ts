/** Answers of the read-only file service (and of the HTTP API that serves them as JSON). */

/** One entry of a directory listing. */
export interface TreeEntry {
  readonly name: string;
  /** Relative to the config root, posix separators; pass it back as `path` to look closer. */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  /** Files: size in bytes. */
  readonly size?: number;
  /** ISO time of the last modification. */
  readonly modifiedAt?: string;
  /** Files: true when the file carries the traefik-sync header (it is ours). */
  readonly owned?: boolean;
  /**
   * True for key material and for links that point outside the root or at keys: never served.
   * A restricted directory is never listed: no `children`, no `total`, not `truncated`.
   */
  readonly restricted?: boolean;
  /** Symbolic links: the target relative to the root when it is inside and servable, else null. */
  readonly target?: string | null;
  /** Directories within the depth and entry budget: their entries (directories first, then by name). */
  readonly children?: TreeEntry[];
  /** Directories that were listed: how many entries they hold. */
  readonly total?: number;
  /**
   * Directories: true when `children` is missing or cut short (depth, entry budget, scan cap, or
   * the directory could not be read); ask for `path` to see more. Never set on restricted ones.
   */
  readonly truncated?: boolean;
}

/** A directory listing: the directory itself, one page of its entries, and nested entries within bounds. */
export interface DirectoryTree {
  readonly name: string;
  /** '' for the config root. */
  readonly path: string;
  readonly type: 'directory';
  readonly modifiedAt: string;
  readonly children: TreeEntry[];
  /** Entries directly in this directory (all pages). */
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  /** Offset of the next page, null on the last one. */
  readonly nextOffset: number | null;
  /** Levels below this directory that were listed. */
  readonly depth: number;
  /** True when the answer pages (more entries before or after this page) or any entry in it is `truncated`. */
  readonly truncated: boolean;
}

/** Bounds of a listing. */
export interface TreeOptions {
  /** Levels below the directory to list (0 = only its entries). Default 3, at most 10. */
  readonly depth?: number;
  /** First entry of the page. Default 0. */
  readonly offset?: number;
  /** Entries per page of the directory itself. Default 500, at most 1000. */
  readonly limit?: number;
}

/** A text file with its state. */
export interface FileContent {
  readonly path: string;
  /** UTF-8 text (invalid sequences replaced), secrets masked as `***`. */
  readonly content: string;
  /** How many secret values were masked in `content` (0: the text is the file's). */
  readonly masked: number;
  /** `sha256:<hex>` of the bytes on disk. */
  readonly checksum: string;
  readonly size: number;
  readonly modifiedAt: string;
  /** Carries the traefik-sync header. */
  readonly owned: boolean;
  /** Owning project id from the header (null: global or not ours). */
  readonly projectId: string | null;
  /**
   * The disk checksum equals the one recorded in traefik_configs for this path; false when it
   * differs or nothing is recorded; null when no database is configured, or it fails or does not
   * answer in time (1 s by default: the content never waits longer on the database).
   */
  readonly inSync: boolean | null;
  /** The checksum recorded in traefik_configs, or null. */
  readonly recordedChecksum: string | null;
}

/** A file's raw bytes for download. */
export interface FileDownload {
  readonly path: string;
  /** Base name, for content-disposition. */
  readonly filename: string;
  /** The file's bytes, or its text with secrets masked when it holds any (`masked` > 0). */
  readonly data: Buffer;
  /** How many secret values were masked in `data`. */
  readonly masked: number;
  readonly size: number;
  readonly checksum: string;
  readonly modifiedAt: string;
}

/** Database (traefik_configs) vs disk for one path. */
export interface FileDiff {
  readonly path: string;
  /** A row in traefik_configs exists for the path. */
  readonly recorded: boolean;
  /** A file exists on disk at the path. */
  readonly onDisk: boolean;
  readonly inSync: boolean;
  /** Unified diff, `a/` = disk, `b/` = database; '' when in sync. Key material is masked. */
  readonly diff: string;
}

/** One drift record (drift_events). */
export interface DriftRecordView {
  readonly id: number;
  readonly replica: string;
  readonly project: string | null;
  readonly file: string;
  readonly kind: 'modified' | 'missing' | 'unexpected';
  readonly detectedAt: string;
  readonly repaired: boolean;
  readonly repairedAt: string | null;
}
