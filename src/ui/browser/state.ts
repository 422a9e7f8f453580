/** What the operator page's file browser shows; tree.ts, viewer.ts and the refresh loop share it. */
import type { DirectoryTree, DriftKind } from './api.js';

/** Content of a file, or its database-vs-disk diff. */
export type ViewMode = 'content' | 'diff';

/** The file browser's state. */
export interface BrowserState {
  /** The listing of the config root (depth 4); null until the first answer. */
  tree: DirectoryTree | null;
  /** Listings of deeper directories, loaded when opened, by path. */
  readonly extra: Map<string, DirectoryTree>;
  /** Directories opened beyond the listing's depth, and listed ones closed, by path. */
  readonly expanded: Set<string>;
  readonly collapsed: Set<string>;
  /** The file in the viewer, and how it is shown. */
  selected: string | null;
  mode: ViewMode;
  /** Unrepaired drift by file path (from the status), marked in the tree. */
  readonly drift: Map<string, DriftKind>;
}

/** The page's one file browser. */
export const browser: BrowserState = {
  tree: null,
  extra: new Map(),
  expanded: new Set(),
  collapsed: new Set(),
  selected: null,
  mode: 'content',
  drift: new Map(),
};
