/** The operator page's stylesheet (light and dark, no web fonts, no images). */
export const APP_CSS = `
:root { --bg: #f6f7f9; --card: #fff; --fg: #1d232b; --muted: #5b6573; --line: #d9dee5; --accent: #1f5fbf;
  --ok: #17703a; --ok-bg: #e3f4e8; --warn: #8a5200; --warn-bg: #fff1d6; --bad: #a4161a; --bad-bg: #fde4e4;
  --code-bg: #f3f5f8; --k: #1f5fbf; --s: #17703a; --n: #8a3ffc; --b: #b3261e; --c: #6b7280; --p: #5b6573; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #12161c; --card: #1a2029; --fg: #e6e9ee; --muted: #9aa4b2; --line: #2c3542; --accent: #7fb0ff;
    --ok: #7ddc9b; --ok-bg: #173323; --warn: #ffcf7a; --warn-bg: #3a2c10; --bad: #ff9b9b; --bad-bg: #3d1a1c;
    --code-bg: #11151b; --k: #7fb0ff; --s: #7ddc9b; --n: #c9a7ff; --b: #ff9b9b; --c: #8b95a3; --p: #9aa4b2; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 0 0 .6rem; }
h3 { font-size: .95rem; margin: 1rem 0 .4rem; }
code, pre { font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.muted { color: var(--muted); }
.small { font-size: .85rem; }
.nowrap { white-space: nowrap; }
.error { color: var(--bad); }
.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; padding: .8rem 1.2rem; background: var(--card); border-bottom: 1px solid var(--line); }
.top p { margin: .2rem 0 0; }
.controls { display: flex; gap: .5rem; align-items: center; }
button { font: inherit; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .25rem .7rem; cursor: pointer; }
button:hover { border-color: var(--accent); }
button:focus-visible, a:focus-visible, pre:focus-visible, h3:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: var(--card); }
button.link { border: 0; background: none; padding: 0; color: var(--accent); text-align: left; }
button.link:hover { text-decoration: underline; }
.banner { margin: .8rem 1.2rem 0; padding: .6rem .8rem; border-radius: 6px; background: var(--bad-bg); color: var(--bad); }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 2fr); gap: 1rem; padding: 1rem 1.2rem; }
.card { position: relative; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .9rem 1rem; min-width: 0; }
main > .card:nth-child(n+3) { grid-column: 1 / -1; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
.health { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .6rem; margin: 0; }
.stat dt { font-size: .8rem; color: var(--muted); }
.stat dd { margin: .1rem 0 0; }
.stat.wide { grid-column: 1 / -1; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; line-height: 1.5rem; white-space: nowrap; background: var(--code-bg); color: var(--muted); }
.badge-ok { background: var(--ok-bg); color: var(--ok); }
.badge-warn { background: var(--warn-bg); color: var(--warn); }
.badge-bad { background: var(--bad-bg); color: var(--bad); }
.scroll { overflow-x: auto; position: relative; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
thead th { font-size: .8rem; color: var(--muted); font-weight: 600; }
tbody th { font-weight: 600; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { padding: .2rem 0; }
.browser { display: grid; grid-template-columns: minmax(14rem, 1fr) minmax(0, 3fr); gap: 1rem; }
@media (max-width: 900px) { .browser { grid-template-columns: 1fr; } }
.tree-nav { max-height: 34rem; overflow: auto; border-right: 1px solid var(--line); padding-right: .5rem; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 1rem; }
.tree { padding-left: 0; }
.tree li { margin: .1rem 0; }
.tree button { border: 0; background: none; padding: .05rem .25rem; color: var(--fg); }
.tree button.dir { font-weight: 600; }
.tree button.dir[aria-expanded="true"]::before { content: "▾ "; color: var(--muted); }
.tree button.dir[aria-expanded="false"]::before { content: "▸ "; color: var(--muted); }
.tree button.file:hover { text-decoration: underline; }
.tree button[aria-current="true"] { background: var(--accent); color: var(--card); border-radius: 4px; }
.tree .badge { margin-left: .3rem; }
.tree .restricted { color: var(--muted); }
.viewer { min-width: 0; }
.viewer h3 { margin-top: 0; word-break: break-all; }
#viewer-tabs { display: flex; gap: .5rem; align-items: center; margin-bottom: .5rem; }
#viewer-tabs[hidden] { display: none; }
pre.code { margin: 0; padding: .6rem 0; background: var(--code-bg); border: 1px solid var(--line); border-radius: 6px; overflow: auto; max-height: 34rem; counter-reset: line; }
pre.code .line { display: block; padding: 0 .8rem 0 3.6rem; position: relative; min-height: 1.5em; white-space: pre; }
pre.code .line::before { counter-increment: line; content: counter(line); position: absolute; left: 0; width: 2.8rem; text-align: right; color: var(--muted); opacity: .6; }
.yk { color: var(--k); } .ys { color: var(--s); } .yn { color: var(--n); } .yb { color: var(--b); }
.yc { color: var(--c); font-style: italic; } .yp, .ya { color: var(--p); } .yv { color: var(--fg); }
.line.da { background: var(--ok-bg); } .line.dd { background: var(--bad-bg); } .line.dh { color: var(--accent); } .line.dm { color: var(--muted); font-weight: 600; }
footer { padding: 0 1.2rem 1.2rem; }
`;
