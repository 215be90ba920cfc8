/**
 * The report page's inline stylesheet and its one small script (table sorting). Both are inlined
 * so report.html is a single file that works offline; the page is fully readable without the
 * script. System fonts only: a web font would be an external resource.
 */

export const CSS = `
:root {
  --fg: #1d1f23; --muted: #5f6670; --line: #dde1e6; --bg: #ffffff; --panel: #f6f7f9;
  --ref: #eef1f5; --best: #e3f4e1; --best-fg: #1b5e20; --accent: #2f5d8a;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1320px; margin: 0 auto; padding: 28px 32px 64px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 1.3rem; margin: 40px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 28px 0 2px; display: flex; align-items: center; gap: 8px; }
h4 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 14px 0 6px; }
code { font: 0.88em/1.4 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.muted { color: var(--muted); }
.lede { color: var(--muted); margin: 0 0 14px; max-width: 80ch; }
.test-data { display: inline-block; background: #fff3cd; color: #664d03; border: 1px solid #ffe69c;
  border-radius: 4px; padding: 2px 8px; font-size: 0.85rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 18px; margin: 12px 0 0;
  background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
nav.toc { margin: 18px 0 0; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: 0.92rem; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; }
table.search-table { font-size: 0.88rem; font-variant-numeric: tabular-nums; margin: 8px 0 16px; }
table.search-table th, table.search-table td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
table.search-table thead th { border-bottom: 2px solid #b9c0c8; }
table.leaderboard { width: 100%; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
table.leaderboard th, table.leaderboard td { padding: 7px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
table.leaderboard thead th { white-space: normal; min-width: 5.5em; line-height: 1.25; }
table.leaderboard thead th.name { min-width: 12em; }
table.leaderboard thead th { position: sticky; top: 0; background: #fff; border-bottom: 2px solid #b9c0c8;
  vertical-align: bottom; text-align: right; font-weight: 600; }
table.leaderboard thead th.name, table.leaderboard thead th.method { text-align: left; }
table.leaderboard th button { all: unset; cursor: pointer; }
table.leaderboard th button:focus-visible { outline: 2px solid var(--accent); }
table.leaderboard th abbr { text-decoration: none; border-bottom: 1px dotted var(--muted); cursor: help; }
table.leaderboard th .dir { color: var(--accent); margin-left: 3px; }
table.leaderboard td.num { text-align: right; }
table.leaderboard td.name { font-weight: 600; }
table.leaderboard td.method { color: var(--muted); }
table.leaderboard tbody.refs tr { background: var(--ref); font-style: italic; }
table.leaderboard tbody.refs tr:last-child td { border-bottom: 2px solid #b9c0c8; }
table.leaderboard tbody.runs tr:hover { background: #fafbfc; }
table.leaderboard .tag { font-style: normal; font-size: 0.72rem; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.05em; color: #fff; background: #6b7280; border-radius: 3px; padding: 1px 5px; margin-left: 6px; }
table.leaderboard td.best { background: var(--best); color: var(--best-fg); font-weight: 700; }
table.leaderboard td.best .star { margin-left: 3px; font-weight: 400; }
table.leaderboard td.missing { color: #9aa1a9; }
table.leaderboard td .warn { margin-left: 6px; color: #b45309; cursor: help; }
ul.warnings li { color: #92400e; }
table.leaderboard td.na { color: #6b7280; font-style: italic; }
table.leaderboard td .ci { margin-left: 4px; font-size: 0.82em; font-weight: 400; color: #6b7280; }
table.leaderboard a { color: inherit; text-decoration: none; }
table.leaderboard a:hover { text-decoration: underline; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 7px; flex: none;
  vertical-align: baseline; box-shadow: 0 0 0 1px rgba(0,0,0,0.15); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 22px; font-size: 0.86rem; color: var(--muted); margin: 10px 0 0; }
.legend b { color: var(--fg); }
ul.notes { font-size: 0.88rem; color: var(--muted); margin: 8px 0 0; padding-left: 20px; }
details.columns { margin-top: 10px; font-size: 0.88rem; }
details.columns summary { cursor: pointer; color: var(--accent); }
details.columns dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
details.columns dd { margin: 0; color: var(--muted); }
figure.plot { margin: 22px 0 6px; padding: 14px 16px 10px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
figure.plot svg { display: block; max-width: 100%; height: auto; }
figure.plot figcaption { font-size: 0.88rem; color: var(--muted); margin-top: 8px; max-width: 95ch; }
p.no-plot { background: var(--panel); border: 1px dashed var(--line); border-radius: 8px; padding: 12px 16px; color: var(--muted); }
section.row-detail { border-top: 1px solid var(--line); padding-top: 4px; }
h2 + section.row-detail { border-top: none; }
section.row-detail p.meta { margin: 0 0 4px; color: var(--muted); font-size: 0.9rem; }
.detail-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 4px 28px; }
table.kv { font-size: 0.88rem; }
table.kv th { text-align: left; font-weight: normal; color: var(--muted); padding: 3px 12px 3px 0; vertical-align: top; white-space: nowrap; }
table.kv td { padding: 3px 0; vertical-align: top; }
table.kv td.num { font-variant-numeric: tabular-nums; }
table.kv tr.skipped td { color: #9aa1a9; }
table.kv .note { font-size: 0.82rem; color: #8a5a00; }
table.examples { width: 100%; font-size: 0.88rem; table-layout: fixed; }
table.examples th { text-align: left; font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted);
  border-bottom: 2px solid var(--line); padding: 6px 10px 6px 0; }
table.examples td { vertical-align: top; padding: 8px 10px 8px 0; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.examples.compare td.q { width: 28%; }
table.examples td.after .gen { border-left: 3px solid var(--accent); padding-left: 8px; }
.gen { white-space: pre-wrap; max-height: 14em; overflow: auto; }
.answer { font-size: 0.84rem; margin-top: 4px; }
.split { display: inline-block; font-size: 0.7rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em;
  border-radius: 3px; padding: 0 5px; margin-right: 4px; }
.split-forget { background: #fde2e1; color: #9b1c1c; }
.split-retain { background: #dcefdc; color: #1e5b1e; }
footer { margin-top: 48px; font-size: 0.82rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: 10px; }
@media print { nav.toc { display: none; } figure.plot, section.row-detail { break-inside: avoid; } }
`;

/**
 * Sorts the runs (never the reference rows) by a clicked column. Each cell carries data-sort, a
 * "badness" key that the page computed per the column's direction, so the first click puts the
 * best run first whatever the direction; missing values always sort last.
 */
export const SORT_SCRIPT = `
(function () {
  var table = document.getElementById('leaderboard-table');
  if (!table) return;
  var body = table.querySelector('tbody.runs');
  var heads = table.querySelectorAll('thead th');
  heads.forEach(function (th, col) {
    var button = th.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort');
        var y = b.cells[col].getAttribute('data-sort');
        if (x === y) return 0;
        if (x === null || x === '') return 1;
        if (y === null || y === '') return -1;
        var nx = Number(x), ny = Number(y);
        var c = isNaN(nx) || isNaN(ny) ? x.localeCompare(y) : nx - ny;
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
`;
