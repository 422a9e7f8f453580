/**
 * The operator page's HTML: landmarks, headings and labelled controls; every dynamic part is
 * filled in with text nodes by the /ui/app.js module and those it imports (src/ui/browser/). No
 * inline script or style (the CSP forbids them).
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>traefik-sync</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <div>
    <h1>traefik-sync <span id="replica" class="muted"></span></h1>
    <p class="muted small">Read-only view of this sidecar: the database is the source of truth, the files mirror it.</p>
  </div>
  <div class="controls">
    <span id="updated" class="muted small"></span>
    <button type="button" id="refresh">Refresh now</button>
    <button type="button" id="pause" aria-pressed="false">Pause auto-refresh</button>
  </div>
</header>
<div id="banner" class="banner" role="alert" hidden></div>
<main id="main">
  <section class="card" aria-labelledby="h-health">
    <h2 id="h-health">Replica health</h2>
    <dl id="health" class="health"><div class="stat"><dt>Status</dt><dd>Loading…</dd></div></dl>
  </section>
  <section class="card" aria-labelledby="h-projects">
    <h2 id="h-projects">Projects</h2>
    <p id="projects-summary" class="muted small"></p>
    <div class="scroll">
      <table id="projects">
        <caption class="sr-only">Sync state of each project</caption>
        <thead><tr><th scope="col">Project</th><th scope="col">State</th><th scope="col">Last sync</th><th scope="col">Last error</th><th scope="col">Drift</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody id="projects-body"><tr><td colspan="6" class="muted">Loading…</td></tr></tbody>
      </table>
    </div>
  </section>
  <section class="card" aria-labelledby="h-drift">
    <h2 id="h-drift">Drift</h2>
    <h3 id="h-drift-now">Unrepaired drift on this replica</h3>
    <ul id="drift-now" class="plain" aria-labelledby="h-drift-now"></ul>
    <h3 id="h-records">Recent drift records (all replicas)</h3>
    <div class="scroll">
      <table id="records" aria-labelledby="h-records">
        <thead><tr><th scope="col">Detected</th><th scope="col">File</th><th scope="col">Kind</th><th scope="col">Project</th><th scope="col">Replica</th><th scope="col">Repaired</th></tr></thead>
        <tbody id="records-body"></tbody>
      </table>
    </div>
  </section>
  <section class="card" aria-labelledby="h-files">
    <h2 id="h-files">Files</h2>
    <div class="browser">
      <nav aria-label="Configuration files" class="tree-nav">
        <ul id="tree" class="tree"><li class="muted">Loading…</li></ul>
      </nav>
      <article id="viewer" class="viewer" aria-labelledby="viewer-title">
        <h3 id="viewer-title" tabindex="-1">Select a file to see its content</h3>
        <p id="viewer-meta" class="small"></p>
        <div id="viewer-tabs" role="group" aria-label="What to show" hidden>
          <button type="button" id="show-content" aria-pressed="true">Content</button>
          <button type="button" id="show-diff" aria-pressed="false">Database vs disk diff</button>
          <a id="download" href="#" download>Download</a>
        </div>
        <pre class="code" tabindex="0" aria-label="File content"><code id="code"></code></pre>
      </article>
    </div>
  </section>
  <div id="announce" class="sr-only" aria-live="polite"></div>
</main>
<footer class="muted small">Read-only. Private keys are never shown. <a href="/api/v1/openapi.json">API (OpenAPI)</a> · <a href="/api/v1/status">status JSON</a> · <a href="/metrics">metrics</a></footer>
</body>
</html>
`;
