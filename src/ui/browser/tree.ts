/**
 * The file browser's directory tree: the listing of /api/v1/files (deeper levels loaded when a
 * directory is opened), with drift and ownership marks; a file opens in the viewer.
 */
import { getJson, type DirectoryTree, type TreeEntry } from './api.js';
import { forget } from './changed.js';
import { badge, byId, el, replaceChildren, type Child } from './dom.js';
import { browser, type ViewMode } from './state.js';
import { loadViewer } from './viewer.js';

function loadDir(path: string): Promise<void> {
  return getJson<DirectoryTree>(`/api/v1/files?depth=2&path=${encodeURIComponent(path)}`).then((r) => {
    if (r.ok) {
      browser.extra.set(path, r.body);
      renderTree();
    }
  });
}

function toggleDir(entry: TreeEntry, open: boolean): void {
  if (open) {
    browser.collapsed.add(entry.path);
    browser.expanded.delete(entry.path);
  } else {
    browser.collapsed.delete(entry.path);
    browser.expanded.add(entry.path);
    if (!entry.children && !browser.extra.has(entry.path)) void loadDir(entry.path);
  }
  renderTree();
}

/** Expand the directories down to path, then focus its button. */
export function revealDir(path: string): void {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    browser.collapsed.delete(p);
    browser.expanded.add(p);
  }
  renderTree();
  const btn = document.querySelector<HTMLElement>(`[data-key="${CSS.escape(`dir:${path}`)}"]`);
  if (btn) {
    btn.scrollIntoView({ block: 'center' });
    btn.focus();
  }
}

/** Show a file in the viewer (content or diff), marked as current in the tree; focus moves to the viewer. */
export function openFile(path: string, mode: ViewMode): void {
  browser.selected = path;
  browser.mode = mode;
  forget('viewer');
  renderTree();
  void loadViewer(true);
}

function childrenOf(entry: TreeEntry): readonly TreeEntry[] | null {
  return entry.children ?? browser.extra.get(entry.path)?.children ?? null;
}

function dirItem(e: TreeEntry): HTMLLIElement {
  const kids = childrenOf(e);
  const open = kids ? !browser.collapsed.has(e.path) : browser.expanded.has(e.path);
  const button = el(
    'button',
    { type: 'button', className: 'dir', 'aria-expanded': String(open), 'data-key': `dir:${e.path}`, onclick: () => toggleDir(e, open) },
    `${e.name}/`,
  );
  const li = el('li', null, button);
  if (open && kids) {
    li.appendChild(el('ul', null, kids.map(treeItem)));
    const total = e.total ?? browser.extra.get(e.path)?.total;
    if (total !== undefined && total > kids.length) {
      li.appendChild(el('p', { className: 'muted small' }, `Showing ${kids.length} of ${total} entries.`));
    }
  } else if (open) {
    li.appendChild(el('p', { className: 'muted small' }, 'Loading…'));
  }
  return li;
}

function fileItem(e: TreeEntry): HTMLLIElement {
  const marks: Child[] = [];
  const drift = browser.drift.get(e.path);
  if (drift) marks.push(badge(drift, 'warn'));
  if (e.type === 'file' && !e.owned) marks.push(badge('not ours', 'muted'));
  if (e.type === 'symlink') marks.push(badge(e.target ? `link to ${e.target}` : 'broken link', 'muted'));
  const button = el(
    'button',
    {
      type: 'button',
      className: 'file',
      'data-key': `file:${e.path}`,
      'aria-current': browser.selected === e.path ? 'true' : null,
      onclick: () => openFile(e.path, 'content'),
    },
    e.name,
  );
  return el('li', { 'data-file': e.path }, [button, ...marks]);
}

function treeItem(e: TreeEntry): HTMLLIElement {
  if (e.restricted) {
    return el('li', { className: 'restricted' }, [
      e.name + (e.type === 'directory' ? '/' : ''),
      ' ',
      badge('key material, not shown', 'muted'),
    ]);
  }
  if (e.type === 'directory') return dirItem(e);
  if (e.type === 'file' || e.type === 'symlink') return fileItem(e);
  return el('li', { className: 'muted' }, `${e.name} (${e.type})`);
}

/** Render the tree from the state, or an error in its place. */
export function renderTree(error?: string): void {
  const tree = byId('tree');
  if (error) {
    replaceChildren(tree, el('li', { className: 'error', role: 'alert' }, error));
    return;
  }
  if (!browser.tree) return;
  const items = browser.tree.children.map(treeItem);
  if (!items.length) items.push(el('li', { className: 'muted' }, 'The config root is empty.'));
  if (browser.tree.nextOffset !== null) {
    items.push(el('li', { className: 'muted small' }, `Showing ${browser.tree.children.length} of ${browser.tree.total} entries.`));
  }
  replaceChildren(tree, items);
}
