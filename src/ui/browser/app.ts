/**
 * The operator page's entry module (/ui/app.js): the refresh loop that reads the status, the
 * projects, the drift records and the file tree every 2 seconds and re-renders what changed,
 * and the page's buttons.
 */
import { getJson, type DirectoryTree, type DriftRecord, type Status } from './api.js';
import { changed } from './changed.js';
import { byId, el, replaceChildren } from './dom.js';
import { browser } from './state.js';
import { openFile, renderTree } from './tree.js';
import { loadViewer } from './viewer.js';
import { announce, renderDriftNow, renderHealth, renderProjects, renderRecords } from './views.js';

/** How often the page refreshes (milliseconds). */
const REFRESH_MS = 2000;

let paused = false;
let timer: ReturnType<typeof setTimeout> | undefined;
let cycle = 0;

function banner(text: string): void {
  const b = byId('banner');
  b.hidden = !text;
  b.textContent = text;
}

function refresh(): Promise<void> {
  clearTimeout(timer);
  // The tree is the costly answer (one stat and header read per file): every 5th cycle only.
  // Drift marks on it come from the status, which is fresh every cycle.
  const withTree = cycle++ % 5 === 0 || !browser.tree;
  return Promise.all([
    getJson<Status>('/api/v1/status'),
    getJson<string[]>('/api/v1/projects'),
    getJson<{ records: DriftRecord[] }>('/api/v1/drift?limit=25'),
    withTree ? getJson<DirectoryTree>('/api/v1/files?depth=4') : null,
  ])
    .then(([status, projects, drift, tree]) => {
      banner(status.ok ? '' : `Status unavailable: ${status.body.error || `HTTP ${status.status}`}`);
      if (status.ok) {
        const s = status.body;
        browser.drift.clear();
        for (const d of s.drift) browser.drift.set(d.path, d.kind);
        if (changed('health', s)) renderHealth(s);
        const dirs = projects.ok ? projects.body : [];
        const records = drift.ok ? drift.body.records : [];
        if (changed('projects', [s.projects, s.replica, dirs, records])) renderProjects(s, dirs, records);
        if (changed('drift-now', s.drift)) renderDriftNow(s);
        announce(s);
      }
      if (changed('records', drift.body)) {
        if (drift.ok) renderRecords(drift.body.records);
        else
          replaceChildren(
            byId('records-body'),
            el('tr', null, el('td', { colspan: '6', className: 'error' }, drift.body.error || 'unavailable')),
          );
      }
      // tree is null when this cycle did not ask for it.
      if (!tree || tree.ok) {
        if (tree) browser.tree = tree.body;
        if (changed('tree', [browser.tree, [...browser.drift], [...browser.extra]])) renderTree();
      } else if (changed('tree', tree.body)) {
        renderTree(tree.body.error || `HTTP ${tree.status}`);
      }
      return loadViewer(false);
    })
    .catch((err: unknown) => {
      banner(`Cannot reach the sidecar: ${err instanceof Error ? err.message : String(err)}`);
    })
    .then(() => {
      byId('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`;
      if (!paused) timer = setTimeout(() => void refresh(), REFRESH_MS);
    });
}

function start(): void {
  const pause = byId('pause');
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume auto-refresh' : 'Pause auto-refresh';
    if (paused) clearTimeout(timer);
    else void refresh();
  });
  byId('refresh').addEventListener('click', () => {
    cycle = 0;
    void refresh();
  });
  byId('show-content').addEventListener('click', () => {
    if (browser.selected) openFile(browser.selected, 'content');
  });
  byId('show-diff').addEventListener('click', () => {
    if (browser.selected) openFile(browser.selected, 'diff');
  });
  void refresh();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
