/**
 * The operator page's file browser (browser JavaScript, as a string): a directory tree loaded from
 * /api/v1/files (deeper levels on demand), and a viewer for a file's highlighted content or its
 * database-vs-disk diff. Refusals (403 keys, 413 too large) are shown as the API words them.
 */
export const BROWSER_JS = String.raw`
var browser = { tree: null, extra: {}, expanded: {}, collapsed: {}, selected: null, mode: 'content', drift: {} };

function toggleDir(entry, open) {
  if (open) {
    browser.collapsed[entry.path] = true;
    delete browser.expanded[entry.path];
  } else {
    delete browser.collapsed[entry.path];
    browser.expanded[entry.path] = true;
    if (!entry.children && !browser.extra[entry.path]) loadDir(entry.path);
  }
  renderTree();
}

function loadDir(path) {
  return getJson('/api/v1/files?depth=2&path=' + encodeURIComponent(path)).then(function (r) {
    if (r.ok) { browser.extra[path] = r.body; renderTree(); }
  });
}

/** Expand the directories down to path, then focus its button. */
function revealDir(path) {
  var parts = path.split('/');
  for (var i = 1; i <= parts.length; i++) {
    var p = parts.slice(0, i).join('/');
    delete browser.collapsed[p];
    browser.expanded[p] = true;
  }
  renderTree();
  var btn = document.querySelector('[data-key="' + CSS.escape('dir:' + path) + '"]');
  if (btn) { btn.scrollIntoView({ block: 'center' }); btn.focus(); }
}

function childrenOf(entry) {
  return entry.children || (browser.extra[entry.path] && browser.extra[entry.path].children) || null;
}

function treeItem(e) {
  if (e.restricted) {
    return el('li', { className: 'restricted' }, [e.name + (e.type === 'directory' ? '/' : ''), ' ', badge('key material, not shown', 'muted')]);
  }
  if (e.type === 'directory') {
    var kids = childrenOf(e);
    var open = kids ? !browser.collapsed[e.path] : !!browser.expanded[e.path];
    var li = el('li', null, el('button', { type: 'button', className: 'dir', 'aria-expanded': String(open), 'data-key': 'dir:' + e.path,
      onclick: function () { toggleDir(e, open); } }, e.name + '/'));
    if (open && kids) {
      li.appendChild(el('ul', null, kids.map(treeItem)));
      var total = e.total !== undefined ? e.total : browser.extra[e.path] && browser.extra[e.path].total;
      if (total > kids.length) li.appendChild(el('p', { className: 'muted small' }, 'Showing ' + kids.length + ' of ' + total + ' entries.'));
    } else if (open) {
      li.appendChild(el('p', { className: 'muted small' }, 'Loading…'));
    }
    return li;
  }
  if (e.type === 'file' || e.type === 'symlink') {
    var marks = [];
    if (browser.drift[e.path]) marks.push(badge(browser.drift[e.path], 'warn'));
    if (e.type === 'file' && !e.owned) marks.push(badge('not ours', 'muted'));
    if (e.type === 'symlink') marks.push(badge(e.target ? 'link to ' + e.target : 'broken link', 'muted'));
    return el('li', { 'data-file': e.path }, [el('button', { type: 'button', className: 'file', 'data-key': 'file:' + e.path,
      'aria-current': browser.selected === e.path ? 'true' : null, onclick: function () { openFile(e.path, 'content'); } }, e.name)].concat(marks));
  }
  return el('li', { className: 'muted' }, e.name + ' (' + e.type + ')');
}

function renderTree(error) {
  var tree = byId('tree');
  if (error) { replaceChildren(tree, el('li', { className: 'error', role: 'alert' }, error)); return; }
  if (!browser.tree) return;
  var items = browser.tree.children.map(treeItem);
  if (!items.length) items.push(el('li', { className: 'muted' }, 'The config root is empty.'));
  if (browser.tree.nextOffset !== null) items.push(el('li', { className: 'muted small' }, 'Showing ' + browser.tree.children.length + ' of ' + browser.tree.total + ' entries.'));
  replaceChildren(tree, items);
}

function openFile(path, mode) {
  browser.selected = path;
  browser.mode = mode || 'content';
  signatures.viewer = null;
  renderTree();
  loadViewer(true);
}

function loadViewer(focus) {
  var path = browser.selected;
  var mode = browser.mode;
  if (!path) return Promise.resolve();
  return getJson(apiUrl(mode === 'diff' ? 'diff' : 'files/content', path)).then(function (r) {
    if (path !== browser.selected || mode !== browser.mode) return;
    if (changed('viewer', [path, mode, r])) renderViewer(path, mode, r);
    if (focus) byId('viewer-title').focus();
  });
}

function renderViewer(path, mode, r) {
  byId('viewer-title').textContent = path;
  byId('show-content').setAttribute('aria-pressed', String(mode === 'content'));
  byId('show-diff').setAttribute('aria-pressed', String(mode === 'diff'));
  byId('viewer-tabs').hidden = false;
  var dl = byId('download');
  dl.href = apiUrl('files/download', path);
  var code = byId('code');
  byId('viewer').setAttribute('data-mode', mode);
  if (!r.ok) {
    replaceChildren(byId('viewer-meta'), el('span', { className: 'error', role: 'alert' }, 'Refused (HTTP ' + r.status + '): ' + (r.body && r.body.error || 'unknown error')));
    while (code.firstChild) code.removeChild(code.firstChild);
    code.parentNode.setAttribute('aria-label', 'Nothing to show');
    return;
  }
  if (mode === 'content') {
    var f = r.body;
    var sync = f.inSync === true ? badge('in sync with the database', 'ok') : f.inSync === false
      ? badge(f.recordedChecksum ? 'differs from the database' : 'not in the database', 'warn') : badge('database state unknown', 'muted');
    replaceChildren(byId('viewer-meta'), [fmtBytes(f.size), ' · modified ', timeEl(f.modifiedAt), ' · ',
      badge(f.owned ? 'generated by traefik-sync' : 'not ours (no header)', f.owned ? 'ok' : 'muted'), ' ', sync, ' · ',
      el('code', { title: f.checksum }, f.checksum.slice(0, 19) + '…')]);
    code.parentNode.setAttribute('aria-label', 'Content of ' + path);
    renderTokens(code, /\.(ya?ml)$/i.test(path) ? tokenizeYaml(f.content) : splitLines(f.content).map(function (l) { return [['', l]]; }));
  } else {
    var d = r.body;
    var what = d.inSync ? 'The disk matches the database.' : !d.onDisk ? 'Missing on disk; the database has it.'
      : !d.recorded ? 'On disk but not in the database (unexpected).' : 'The disk differs from the database.';
    replaceChildren(byId('viewer-meta'), [badge(d.inSync ? 'in sync' : 'drifted', d.inSync ? 'ok' : 'warn'), ' ', what,
      d.inSync ? '' : ' Lines with - are on disk, lines with + are what the database wants.']);
    code.parentNode.setAttribute('aria-label', 'Diff of ' + path + ', disk against database');
    renderTokens(code, tokenizeDiff(d.diff || '(no differences)'));
  }
}
`;
