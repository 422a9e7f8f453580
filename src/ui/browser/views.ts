/**
 * The operator page's views of the status: replica health, projects with their sync state,
 * current drift and drift records, and a polite announcement when drift or failures change.
 */
import type { DriftKind, DriftRecord, ProjectStatus, Status } from './api.js';
import { badge, byId, el, replaceChildren, timeEl, type BadgeKind, type Child } from './dom.js';
import { openFile, revealDir } from './tree.js';

/** A project's sync state as the page shows it. */
type ProjectState = 'in sync' | 'drifted' | 'failed' | 'unknown';

/** The state of a /api/v1/status project entry (or none). Traefik refusing its objects is a failure too. */
function projectState(p: ProjectStatus | null): ProjectState {
  if (!p) return 'unknown';
  if (p.lastError || p.traefikErrors?.length) return 'failed';
  if (!p.inSync || p.drift.some((d) => !d.repaired)) return 'drifted';
  return 'in sync';
}

const STATE_KIND: Readonly<Record<ProjectState, BadgeKind>> = { 'in sync': 'ok', drifted: 'warn', failed: 'bad', unknown: 'muted' };

/** Render the replica's health and name. */
export function renderHealth(s: Status): void {
  const rows: Array<[string, string, BadgeKind]> = [
    ['Ready', s.ready ? 'ready' : 'not ready (first full sync pending)', s.ready ? 'ok' : 'bad'],
    ['Database', s.databaseUp ? 'up' : 'down (serving the last good files)', s.databaseUp ? 'ok' : 'bad'],
    ['Leader', s.leader ? 'yes' : 'no', 'muted'],
    ['Change feed (LISTEN)', s.listenConnected ? 'connected' : 'disconnected', s.listenConnected ? 'ok' : 'warn'],
    ['Queue depth', String(s.queueDepth), s.queueDepth > 100 ? 'warn' : 'muted'],
    ['Delete guard', s.deleteGuardBlocked ? 'blocked the last pass' : 'not triggered', s.deleteGuardBlocked ? 'bad' : 'ok'],
    ['Traefik restart', s.traefikRestart?.needed ? 'Traefik restart needed' : 'not needed', s.traefikRestart?.needed ? 'warn' : 'ok'],
    traefikRow(s),
  ];
  const items = rows.map(([name, text, kind]) =>
    el('div', { className: 'stat', 'data-stat': name }, [el('dt', null, name), el('dd', null, badge(text, kind))]),
  );
  items.push(el('div', { className: 'stat' }, [el('dt', null, 'Last sync'), el('dd', null, timeEl(s.lastSyncAt))]));
  items.push(el('div', { className: 'stat' }, [el('dt', null, 'Last success'), el('dd', null, timeEl(s.lastSuccessAt))]));
  items.push(
    el('div', { className: 'stat wide' }, [
      el('dt', null, 'Last error'),
      el('dd', { className: s.lastError ? 'error' : 'muted' }, s.lastError || 'none'),
    ]),
  );
  if (s.traefikRestart?.needed) {
    items.push(
      el('div', { className: 'stat wide', 'data-stat': 'Traefik restart reason' }, [
        el('dt', null, 'Traefik restart needed since'),
        el('dd', { className: 'error' }, [timeEl(s.traefikRestart.since), ` — ${s.traefikRestart.reason ?? ''}`]),
      ]),
    );
  }
  replaceChildren(byId('health'), items);
  byId('replica').textContent = s.replica ? `on ${s.replica}` : '';
}

/** The health row of Traefik's API: read or not, answering, changes it does not serve yet, unowned files. */
function traefikRow(s: Status): [string, string, BadgeKind] {
  const t = s.traefik;
  if (!t?.apiRead) return ['Traefik API', 'not read (TRAEFIK_API_URL unset)', 'muted'];
  if (t.up !== true) return ['Traefik API', t.up === false ? 'not answering' : 'not read yet', t.up === false ? 'bad' : 'muted'];
  const notes = [t.pending ? `${t.pending} change(s) not served yet (${Math.round(t.configLagSeconds)} s)` : 'serving every change'];
  if (t.unownedFiles.length) notes.push(`${t.unownedFiles.length} file(s) not ours under dynamic/`);
  return ['Traefik API', `up; ${notes.join('; ')}`, t.pending || t.unownedFiles.length ? 'warn' : 'ok'];
}

/** A project's standing in Traefik: live or not, and the routers of others on its hosts. */
function liveBadges(p: ProjectStatus | null): Child[] {
  const out: Child[] = [];
  if (p?.live === true) out.push(' ', badge('live', 'ok'));
  if (p?.live === false) out.push(' ', el('span', { title: p.liveDetail ?? '' }, badge('not live', 'warn')));
  for (const s of p?.shadowedBy ?? []) {
    out.push(
      el('div', { className: 'small', 'data-shadow': s.router }, [
        badge('shadowed', 'warn'),
        ' by ',
        el('code', null, s.router),
        ` (${s.source})${s.host ? ` on ${s.host}` : ''}`,
      ]),
    );
  }
  return out;
}

/** The errors column: the project's own error, then Traefik's messages for its objects. */
function errorCell(p: ProjectStatus | null): HTMLTableCellElement {
  const lines: Child[] = [];
  if (p?.lastError) lines.push(el('div', null, p.lastError));
  for (const e of p?.traefikErrors ?? []) {
    lines.push(
      el('div', { 'data-traefik-error': e.name }, [
        'Traefik: ',
        el('code', null, e.name),
        ` ${e.status}: ${e.messages.join('; ') || '(no message)'}`,
      ]),
    );
  }
  return el('td', { className: lines.length ? 'error' : 'muted' }, lines.length ? lines : 'none');
}

function driftButton(path: string, kind: DriftKind): HTMLButtonElement {
  return el(
    'button',
    { type: 'button', className: 'link', 'data-key': `diff:${path}`, 'data-diff': path, onclick: () => openFile(path, 'diff') },
    ['Show diff of ', el('code', null, path), ` (${kind})`],
  );
}

/** Drift this replica repaired in the last 15 minutes, by project name (from drift records). */
function recentRepairs(status: Status, records: readonly DriftRecord[]): Map<string, DriftRecord[]> {
  const out = new Map<string, DriftRecord[]>();
  const since = Date.now() - 15 * 60 * 1000;
  for (const r of records) {
    if (!r.repaired || !r.project || r.replica !== status.replica || Date.parse(r.detectedAt) < since) continue;
    out.set(r.project, [...(out.get(r.project) ?? []), r]);
  }
  return out;
}

function driftCell(p: ProjectStatus | null, repairs: readonly DriftRecord[]): Child[] {
  const cell: Child[] = [];
  for (const d of p?.drift ?? []) if (!d.repaired) cell.push(el('div', null, driftButton(d.path, d.kind)));
  for (const r of repairs.slice(0, 3)) {
    const when = timeEl(r.repairedAt || r.detectedAt);
    cell.push(
      el('div', { className: 'muted small' }, [badge('repaired', 'ok'), ' ', el('code', null, r.file), ` (${r.kind}, `, when, ')']),
    );
  }
  if (!cell.length) cell.push(el('span', { className: 'muted' }, 'none'));
  return cell;
}

/** Render the projects table: every project of the status, and every project directory on disk. */
export function renderProjects(status: Status, dirs: readonly string[], records: readonly DriftRecord[]): void {
  const repairs = recentRepairs(status, records);
  const byName = new Map<string, ProjectStatus | null>();
  for (const p of Object.values(status.projects)) if (p.name) byName.set(p.name, p);
  for (const name of dirs) if (!byName.has(name)) byName.set(name, null);
  const names = [...byName.keys()].sort();
  const counts: Record<ProjectState, number> = { 'in sync': 0, drifted: 0, failed: 0, unknown: 0 };
  const rows = names.map((name) => {
    const p = byName.get(name) ?? null;
    const state = projectState(p);
    counts[state]++;
    const browse = el('button', { type: 'button', 'data-key': `browse:${name}`, onclick: () => revealDir(`dynamic/${name}`) }, [
      el('span', { className: 'sr-only' }, `Browse ${name} `),
      'Files',
    ]);
    const live = p?.live === true ? 'true' : p?.live === false ? 'false' : 'unknown';
    return el('tr', { 'data-project': name, 'data-state': state, 'data-live': live }, [
      el('th', { scope: 'row' }, name),
      el('td', null, [badge(state, STATE_KIND[state]), ...liveBadges(p)]),
      el('td', null, timeEl(p?.lastSyncAt)),
      errorCell(p),
      el('td', null, driftCell(p, repairs.get(name) ?? [])),
      el('td', { className: 'nowrap' }, browse),
    ]);
  });
  if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '6', className: 'muted' }, 'No projects yet.')));
  replaceChildren(byId('projects-body'), rows);
  byId('projects-summary').textContent =
    `${names.length} projects: ${counts['in sync']} in sync, ${counts.drifted} drifted, ${counts.failed} failed`;
}

/** Render this replica's unrepaired drift, each with a button to its diff. */
export function renderDriftNow(status: Status): void {
  const items = status.drift.map((d) => el('li', { 'data-drift': d.path }, [badge(d.kind, 'warn'), ' ', driftButton(d.path, d.kind)]));
  if (!items.length) items.push(el('li', { className: 'muted' }, 'No unrepaired drift: the files match the database.'));
  replaceChildren(byId('drift-now'), items);
}

/** Render the recent drift records of all replicas. */
export function renderRecords(records: readonly DriftRecord[]): void {
  const rows = records.map((r) =>
    el('tr', { 'data-record': r.file, 'data-repaired': String(r.repaired) }, [
      el('td', null, timeEl(r.detectedAt)),
      el('td', null, el('code', null, r.file)),
      el('td', null, r.kind),
      el('td', null, r.project || '(global)'),
      el('td', null, r.replica),
      el('td', null, r.repaired ? [badge('repaired', 'ok'), ' ', timeEl(r.repairedAt)] : badge('not repaired', 'warn')),
    ]),
  );
  if (!rows.length) rows.push(el('tr', null, el('td', { colspan: '6', className: 'muted' }, 'No drift recorded.')));
  replaceChildren(byId('records-body'), rows);
}

let lastAnnounced: string | null = null;

/** Tell screen readers (politely) when the amount of drift or failure changes. */
export function announce(status: Status): void {
  const failed = Object.values(status.projects).filter((p) => p.lastError || p.traefikErrors?.length).length;
  const text = `${status.drift.length} files drifted, ${failed} projects failed`;
  if (text !== lastAnnounced) {
    if (lastAnnounced !== null) byId('announce').textContent = text;
    lastAnnounced = text;
  }
}
