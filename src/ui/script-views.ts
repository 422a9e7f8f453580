/**
 * Operator page views (browser JavaScript, as a string): replica health, projects with their sync
 * state, current drift and drift records. Uses the helpers of script-dom.ts; `openFile` comes from
 * script-browser.ts.
 */
export const VIEWS_JS = String.raw`
/** in sync | drifted | failed | unknown, from a /api/v1/status project entry (or none). */
function projectState(p) {
  if (!p) return 'unknown';
  if (p.lastError) return 'failed';
  if (!p.inSync || (p.drift || []).some(function (d) { return !d.repaired; })) return 'drifted';
  return 'in sync';
}

var STATE_KIND = { 'in sync': 'ok', drifted: 'warn', failed: 'bad', unknown: 'muted' };

function renderHealth(s) {
  var rows = [
    ['Ready', s.ready ? 'ready' : 'not ready (first full sync pending)', s.ready ? 'ok' : 'bad'],
    ['Database', s.databaseUp ? 'up' : 'down (serving the last good files)', s.databaseUp ? 'ok' : 'bad'],
    ['Leader', s.leader ? 'yes' : 'no', 'muted'],
    ['Change feed (LISTEN)', s.listenConnected ? 'connected' : 'disconnected', s.listenConnected ? 'ok' : 'warn'],
    ['Queue depth', String(s.queueDepth), s.queueDepth > 100 ? 'warn' : 'muted'],
    ['Delete guard', s.deleteGuardBlocked ? 'blocked the last pass' : 'not triggered', s.deleteGuardBlocked ? 'bad' : 'ok'],
  ];
  var items = [];
  rows.forEach(function (r) {
    items.push(el('div', { className: 'stat', 'data-stat': r[0] }, [el('dt', null, r[0]), el('dd', null, badge(r[1], r[2]))]));
  });
  items.push(el('div', { className: 'stat' }, [el('dt', null, 'Last sync'), el('dd', null, timeEl(s.lastSyncAt))]));
  items.push(el('div', { className: 'stat' }, [el('dt', null, 'Last success'), el('dd', null, timeEl(s.lastSuccessAt))]));
  items.push(el('div', { className: 'stat wide' }, [el('dt', null, 'Last error'), el('dd', { className: s.lastError ? 'error' : 'muted' }, s.lastError || 'none')]));
  replaceChildren(byId('health'), items);
  byId('replica').textContent = s.replica ? 'on ' + s.replica : '';
}

function driftButton(path, kind) {
  return el('button', { type: 'button', className: 'link', 'data-key': 'diff:' + path, 'data-diff': path, onclick: function () { openFile(path, 'diff'); } },
    ['Show diff of ', el('code', null, path), ' (' + kind + ')']);
}

/** Drift this replica repaired in the last 15 minutes, by project name (from drift records). */
function recentRepairs(status, records) {
  var out = {};
  var since = Date.now() - 15 * 60 * 1000;
  (records || []).forEach(function (r) {
    if (!r.repaired || !r.project || r.replica !== status.replica || Date.parse(r.detectedAt) < since) return;
    (out[r.project] = out[r.project] || []).push(r);
  });
  return out;
}

function renderProjects(status, dirs, records) {
  var repairs = recentRepairs(status, records);
  var byName = {};
  Object.keys(status.projects || {}).forEach(function (id) {
    var p = status.projects[id];
    if (p && p.name) byName[p.name] = p;
  });
  (dirs || []).forEach(function (name) { if (!(name in byName)) byName[name] = null; });
  var names = Object.keys(byName).sort();
  var counts = { 'in sync': 0, drifted: 0, failed: 0, unknown: 0 };
  var rows = names.map(function (name) {
    var p = byName[name];
    var state = projectState(p);
    counts[state]++;
    var open = (p && p.drift || []).filter(function (d) { return !d.repaired; });
    var driftCell = [];
    open.forEach(function (d) { driftCell.push(el('div', null, driftButton(d.path, d.kind))); });
    (repairs[name] || []).slice(0, 3).forEach(function (r) {
      driftCell.push(el('div', { className: 'muted small' }, [badge('repaired', 'ok'), ' ', el('code', null, r.file), ' (' + r.kind + ', ', timeEl(r.repairedAt || r.detectedAt), ')']));
    });
    if (!driftCell.length) driftCell.push(el('span', { className: 'muted' }, 'none'));
    return el('tr', { 'data-project': name, 'data-state': state }, [
      el('th', { scope: 'row' }, name),
      el('td', null, badge(state, STATE_KIND[state])),
      el('td', null, timeEl(p && p.lastSyncAt)),
      el('td', { className: p && p.lastError ? 'error' : 'muted' }, p && p.lastError ? p.lastError : 'none'),
      el('td', null, driftCell),
      el('td', { className: 'nowrap' }, el('button', { type: 'button', 'data-key': 'browse:' + name, onclick: function () { revealDir('dynamic/' + name); } }, [el('span', { className: 'sr-only' }, 'Browse ' + name + ' '), 'Files'])),
    ]);
  });
  if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '6', className: 'muted' }, 'No projects yet.')));
  replaceChildren(byId('projects-body'), rows);
  byId('projects-summary').textContent = names.length + ' projects: ' + counts['in sync'] + ' in sync, ' + counts.drifted + ' drifted, ' + counts.failed + ' failed';
}

function renderDriftNow(status) {
  var drift = status.drift || [];
  var items = drift.map(function (d) { return el('li', { 'data-drift': d.path }, [badge(d.kind, 'warn'), ' ', driftButton(d.path, d.kind)]); });
  if (!items.length) items.push(el('li', { className: 'muted' }, 'No unrepaired drift: the files match the database.'));
  replaceChildren(byId('drift-now'), items);
}

function renderRecords(records) {
  var rows = records.map(function (r) {
    return el('tr', { 'data-record': r.file, 'data-repaired': String(r.repaired) }, [
      el('td', null, timeEl(r.detectedAt)),
      el('td', null, el('code', null, r.file)),
      el('td', null, r.kind),
      el('td', null, r.project || '(global)'),
      el('td', null, r.replica),
      el('td', null, r.repaired ? [badge('repaired', 'ok'), ' ', timeEl(r.repairedAt)] : badge('not repaired', 'warn')),
    ]);
  });
  if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '6', className: 'muted' }, 'No drift recorded.')));
  replaceChildren(byId('records-body'), rows);
}

var lastAnnounced = null;
/** Tell screen readers (politely) when the amount of drift or failure changes. */
function announce(status) {
  var failed = Object.keys(status.projects || {}).filter(function (id) { return status.projects[id].lastError; }).length;
  var text = (status.drift || []).length + ' files drifted, ' + failed + ' projects failed';
  if (text !== lastAnnounced) {
    if (lastAnnounced !== null) byId('announce').textContent = text;
    lastAnnounced = text;
  }
}
`;
