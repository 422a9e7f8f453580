/**
 * The operator page's script, assembled from its parts into one strict IIFE (no modules, no
 * build step): helpers, highlighter, views, file browser, and the refresh loop below.
 */
import { BROWSER_JS } from './script-browser.js';
import { DOM_JS } from './script-dom.js';
import { HIGHLIGHT_JS } from './script-highlight.js';
import { VIEWS_JS } from './script-views.js';

/** How often the page refreshes (milliseconds). */
export const REFRESH_MS = 2000;

const MAIN_JS = String.raw`
var paused = false;
var timer = null;

function banner(text) {
  var b = byId('banner');
  b.hidden = !text;
  b.textContent = text || '';
}

var cycle = 0;
var NO_TREE = { ok: true, skipped: true };

function refresh() {
  clearTimeout(timer);
  // The tree is the costly answer (one stat and header read per file): every 5th cycle only.
  // Drift marks on it come from the status, which is fresh every cycle.
  var withTree = cycle++ % 5 === 0 || !browser.tree;
  return Promise.all([
    getJson('/api/v1/status'),
    getJson('/api/v1/projects'),
    getJson('/api/v1/drift?limit=25'),
    withTree ? getJson('/api/v1/files?depth=4') : Promise.resolve(NO_TREE),
  ]).then(function (rs) {
    var status = rs[0], projects = rs[1], drift = rs[2], tree = rs[3];
    banner(status.ok ? '' : 'Status unavailable: ' + (status.body.error || 'HTTP ' + status.status));
    if (status.ok) {
      var s = status.body;
      browser.drift = {};
      (s.drift || []).forEach(function (d) { browser.drift[d.path] = d.kind; });
      if (changed('health', s)) renderHealth(s);
      var dirs = projects.ok ? projects.body : [];
      var records = drift.ok ? drift.body.records : [];
      if (changed('projects', [s.projects, s.replica, dirs, records])) renderProjects(s, dirs, records);
      if (changed('drift-now', s.drift)) renderDriftNow(s);
      announce(s);
    }
    if (changed('records', drift.body)) {
      if (drift.ok) renderRecords(drift.body.records);
      else replaceChildren(byId('records-body'), el('tr', null, el('td', { colspan: '6', className: 'error' }, drift.body.error || 'unavailable')));
    }
    if (tree.ok) {
      if (!tree.skipped) browser.tree = tree.body;
      if (changed('tree', [browser.tree, browser.drift, browser.extra])) renderTree();
    } else if (changed('tree', tree.body)) {
      renderTree(tree.body.error || 'HTTP ' + tree.status);
    }
    return loadViewer(false);
  }).catch(function (err) {
    banner('Cannot reach the sidecar: ' + (err && err.message || err));
  }).then(function () {
    byId('updated').textContent = 'Updated ' + new Date().toLocaleTimeString();
    if (!paused) timer = setTimeout(refresh, ${REFRESH_MS});
  });
}

function start() {
  byId('pause').addEventListener('click', function () {
    paused = !paused;
    this.setAttribute('aria-pressed', String(paused));
    this.textContent = paused ? 'Resume auto-refresh' : 'Pause auto-refresh';
    if (paused) clearTimeout(timer); else refresh();
  });
  byId('refresh').addEventListener('click', function () { cycle = 0; refresh(); });
  byId('show-content').addEventListener('click', function () { if (browser.selected) openFile(browser.selected, 'content'); });
  byId('show-diff').addEventListener('click', function () { if (browser.selected) openFile(browser.selected, 'diff'); });
  refresh();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
`;

/** The whole script served at /ui/app.js. */
export const APP_JS = `(function () {\n'use strict';\n${DOM_JS}\n${HIGHLIGHT_JS}\n${VIEWS_JS}\n${BROWSER_JS}\n${MAIN_JS}\n})();\n`;
