/**
 * The status page's stylesheet and icon, served as files (the page's CSP
 * forbids inline styles). Light and dark follow `prefers-color-scheme`;
 * every state is written in words, the colours only help.
 */

export const STATUS_PAGE_CSS = `:root {
  color-scheme: light dark;
  --bg: #ffffff;
  --fg: #1f2328;
  --muted: #59636e;
  --line: #d1d9e0;
  --head: #f6f8fa;
  --focus: #0969da;
  --ok: #1a7f37;
  --warn: #9a6700;
  --bad: #cf222e;
  --off: #59636e;
  --bad-row: #ffebe9;
  --warn-row: #fff8c5;
  --rate: #0969da;
  --latency: #bc4c00;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117;
    --fg: #e6edf3;
    --muted: #9198a1;
    --line: #3d444d;
    --head: #151b23;
    --focus: #4493f8;
    --ok: #3fb950;
    --warn: #d29922;
    --bad: #ff7b72;
    --off: #9198a1;
    --bad-row: #3c1618;
    --warn-row: #2e2a14;
    --rate: #4493f8;
    --latency: #f0883e;
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem 1.25rem; padding: 0.75rem 1.25rem; border-bottom: 1px solid var(--line); }
.top h1 { margin: 0; font-size: 1.2rem; }
.top p { margin: 0; }
.top button { margin-left: auto; }
main { padding: 0 1.25rem 2rem; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.4rem; }
.muted { color: var(--muted); font-weight: normal; }
.error { color: var(--bad); font-weight: 600; }
.overall { font-weight: 700; }
.overall[data-state="healthy"] { color: var(--ok); }
.overall[data-state="degraded"] { color: var(--warn); }
.overall[data-state="unhealthy"] { color: var(--bad); }
button, input { font: inherit; color: inherit; }
button { background: var(--head); border: 1px solid var(--line); border-radius: 6px; padding: 0.3rem 0.8rem; cursor: pointer; }
input { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 0.3rem 0.5rem; }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.login { max-width: 32rem; margin-top: 2rem; }
.login form { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.login input { flex: 1 1 14rem; }
.banner { border: 1px solid var(--bad); border-radius: 6px; padding: 0.5rem 0.75rem; margin: 1rem 0 0; }
.toolbar { display: flex; gap: 0.5rem; align-items: center; margin-top: 1rem; }
.toolbar input { width: min(28rem, 100%); }
.totals { display: flex; flex-wrap: wrap; gap: 0.5rem 2rem; margin: 0; }
.totals div { min-width: 7rem; }
.totals dt { color: var(--muted); font-size: 0.85rem; }
.totals dd { margin: 0; font-size: 1.1rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table.grid { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.grid th, .grid td { padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle; white-space: nowrap; }
.grid thead th { background: var(--head); font-weight: 600; position: sticky; top: 0; white-space: normal; min-width: 4rem; }
.grid small { color: var(--muted); font-size: 0.8rem; }
.grid .num { text-align: right; }
.grid td.wrap { white-space: normal; min-width: 9rem; max-width: 14rem; }
.grid tbody tr:last-child td { border-bottom: 0; }
.grid td.empty { color: var(--muted); text-align: center; }
th button.sort { background: none; border: 0; padding: 0; font-weight: 600; cursor: pointer; }
th button.sort::after { content: " \\2195"; color: var(--muted); }
th[aria-sort="ascending"] button.sort::after { content: " \\2191"; color: var(--fg); }
th[aria-sort="descending"] button.sort::after { content: " \\2193"; color: var(--fg); }
tr[data-state="unhealthy"] { background: var(--bad-row); }
tr[data-state="half_open"], tr[data-state="failing"], tr[data-state="degraded"] { background: var(--warn-row); }
.state { font-weight: 600; padding-left: 0.5rem; border-left: 4px solid var(--ok); }
.state[data-state="healthy"] { color: var(--ok); }
.state[data-state="unhealthy"] { color: var(--bad); border-left-color: var(--bad); }
.state[data-state="half_open"], .state[data-state="failing"], .state[data-state="degraded"] { color: var(--warn); border-left-color: var(--warn); }
.state[data-state="recovering"] { color: var(--warn); border-left-color: var(--warn); border-left-style: dashed; }
.state[data-state="disabled"] { color: var(--off); border-left-color: var(--off); font-weight: normal; }
.spark { display: block; }
.spark path { fill: none; stroke-width: 1.5; stroke-linecap: round; stroke-linejoin: round; }
.spark .spark-rate { stroke: var(--rate); }
.spark .spark-latency { stroke: var(--latency); stroke-dasharray: 3 2; }
.spark .spark-base { stroke: var(--line); stroke-width: 1; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
`

/** A berry, in the colours it would have anyway: the page names itself in the tab. */
export const STATUS_PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path fill="#2da44e" d="M16 3c2 2 5 2 7 1-1 3-4 4-7 4-3 0-6-1-7-4 2 1 5 1 7-1z"/><circle cx="11" cy="16" r="5" fill="#cf222e"/><circle cx="21" cy="16" r="5" fill="#cf222e"/><circle cx="16" cy="24" r="5" fill="#a40e26"/><circle cx="16" cy="13" r="4" fill="#e5534b"/></svg>
`
