// The report's inline stylesheet: readable on a laptop, tidy when printed (@media print).

export const REPORT_CSS = `
:root { --ok:#15803d; --ok-bg:#dcfce7; --bad:#b91c1c; --bad-bg:#fee2e2; --warn:#b45309; --warn-bg:#fef3c7;
  --unsure:#1e40af; --unsure-bg:#e0e7ff;
  --muted:#6b7280; --line:#e5e7eb; --ink:#111827; --card:#fff; --page:#f5f6f8; --accent:#1d4ed8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--page); color:var(--ink); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
main { max-width:1180px; margin:0 auto; padding:20px 24px 60px; }
header.top { display:flex; justify-content:space-between; align-items:baseline; gap:16px; flex-wrap:wrap; }
header.top h1 { font-size:20px; margin:0 0 4px; }
nav.toc { font-size:13px; margin:8px 0 16px; display:flex; flex-wrap:wrap; gap:6px 14px; }
nav.toc a { color:var(--accent); text-decoration:none; }
a { color:var(--accent); }
h2 { font-size:17px; margin:0 0 8px; }
h3 { font-size:14px; margin:18px 0 6px; color:#374151; }
h4 { font-size:13px; margin:12px 0 4px; }
code, pre { font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace; font-size:12px; }
pre { white-space:pre-wrap; word-break:break-word; margin:4px 0; }
pre.cmd { background:#f3f4f6; padding:4px 6px; border-radius:4px; }
pre.out { background:#111827; color:#e5e7eb; padding:8px; border-radius:4px; max-height:320px; overflow:auto; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:16px 18px; margin:14px 0;
  box-shadow:0 1px 2px rgba(0,0,0,.04); }
.scenario.not-passed { border-left:5px solid var(--bad); }
.scenario.passed { border-left:5px solid var(--ok); }
.scenario.inconclusive { border-left:5px solid var(--unsure); }
.verdict.inconclusive { background:var(--unsure-bg); border:1px solid #a5b4fc; }
.verdict.inconclusive .verdict-word { color:var(--unsure); }
ol.inconclusive, ul.inconclusive { background:var(--unsure-bg); border-radius:6px; padding:8px 8px 8px 26px; margin:6px 0 0; }
.badge.unsure { background:var(--unsure-bg); color:var(--unsure); }
.unsure-text { color:var(--unsure); }
.verdict { border-radius:8px; padding:16px 20px; margin:10px 0 14px; }
.verdict.passed { background:var(--ok-bg); border:1px solid #86efac; }
.verdict.failed { background:var(--bad-bg); border:1px solid #fca5a5; }
.verdict-head { display:flex; justify-content:space-between; align-items:center; gap:12px; flex-wrap:wrap; }
.verdict-word { font-size:24px; font-weight:700; }
.verdict.passed .verdict-word { color:var(--ok); }
.verdict.failed .verdict-word { color:var(--bad); }
ol.failures, ul.failures { margin:6px 0 0; padding-left:22px; }
ul.failures { background:var(--bad-bg); border-radius:6px; padding:8px 8px 8px 26px; }
.badge { display:inline-block; font-size:11px; font-weight:600; padding:1px 7px; border-radius:10px; vertical-align:middle;
  background:#e5e7eb; color:#374151; white-space:nowrap; }
.badge.ok { background:var(--ok-bg); color:var(--ok); }
.badge.bad { background:var(--bad-bg); color:var(--bad); }
.badge.warn { background:var(--warn-bg); color:var(--warn); }
.badge.neg { background:#ede9fe; color:#6d28d9; }
.badge.muted { background:#f3f4f6; color:var(--muted); }
.ok-text { color:var(--ok); } .bad-text { color:var(--bad); } .warn-text { color:var(--warn); } .muted { color:var(--muted); }
.sub { color:var(--muted); font-size:12px; }
table { border-collapse:collapse; width:100%; margin:4px 0; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-size:12px; color:#4b5563; font-weight:600; background:#f9fafb; }
td.num, th.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
td.evidence { width:45%; } td.evidence code { font-size:11px; color:#374151; word-break:break-word; }
tr.failed td, tr.step-failed td { background:#fff5f5; }
tr.flaky td { background:#fffbeb; }
.grid { display:grid; grid-template-columns:minmax(0,1.15fr) minmax(0,1fr); gap:18px; }
.grid3 { display:grid; grid-template-columns:1.4fr 1fr 1fr; gap:18px; }
@media (max-width:900px) { .grid, .grid3 { grid-template-columns:1fr; } }
dl.facts { margin:0; display:grid; grid-template-columns:1fr; gap:2px; }
dl.facts div { display:flex; gap:10px; }
dl.facts dt { width:150px; color:var(--muted); flex:none; }
dl.facts dd { margin:0; }
.timeline { margin:8px 0 4px; border:1px solid var(--line); border-radius:6px; padding:4px; background:#fff; }
.timeline svg { display:block; }
ul.evidence-list { list-style:none; padding:0; margin:4px 0; }
ul.evidence-list li { margin:4px 0; }
ul.evidence-list code { font-size:11px; }
table.coverage td.cov { text-align:center; white-space:nowrap; }
td.cov.caught { background:var(--ok-bg); color:var(--ok); font-weight:600; }
td.cov.partial { background:var(--warn-bg); color:var(--warn); font-weight:600; }
td.cov.missed { background:var(--bad-bg); color:var(--bad); font-weight:600; }
td.cov.none { color:#9ca3af; }
th.row { background:#fff; font-size:13px; color:var(--ink); }
table.errors-by-phase { width:auto; min-width:50%; }
table.errors-by-phase th[scope=colgroup] { text-align:center; }
table.errors-by-phase td.num, table.errors-by-phase th.num { min-width:56px; }
p.flag-legend abbr { font-weight:600; text-decoration:none; }
.scroll { overflow-x:auto; }
.warn-box { background:#fffbeb; border-color:#fcd34d; }
ul.logs li.warn { color:var(--warn); } ul.logs li.error { color:var(--bad); }
details summary { cursor:pointer; color:var(--accent); font-size:12px; }
footer { color:var(--muted); font-size:12px; margin-top:24px; }
@media print {
  body { background:#fff; font-size:11px; }
  main { max-width:none; padding:0; }
  nav.toc { display:none; }
  .card { box-shadow:none; break-inside:avoid-page; }
  .scenario { break-before:page; }
  pre.out { max-height:none; background:#f3f4f6; color:#111827; }
  a { color:inherit; text-decoration:none; }
}
`;
