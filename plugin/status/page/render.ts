/** The dashboard: the overview and the four tables, refreshed from each StatusView. */
import type { BackendStatus, ModelStatus, ProviderStatus, StatusView, UserStatus } from '../view-types.js'
import { drawChart } from './chart.js'
import { amount, duration, headroom, headroomRatio, lastFailure, pair, percent, severity, stateWords, weights } from './format.js'
import { SortableTable, type Column } from './table.js'

interface BackendRow {
  readonly model: ModelStatus
  readonly backend: BackendStatus
}

function badge (state: string, words: string): HTMLElement {
  const span = document.createElement('span')
  span.className = 'state'
  span.dataset.state = state
  span.textContent = words
  return span
}

/** A name with a muted second line (the upstream model under the provider). */
function twoLines (main: string, sub: string): HTMLElement {
  const span = document.createElement('span')
  span.className = 'two-lines'
  const small = document.createElement('small')
  small.textContent = sub
  span.append(main, document.createElement('br'), small)
  return span
}

/** A missing value sorts below every real one, whichever the direction. */
const orLow = (value: number | null): number => value ?? -1

type Figures = Pick<BackendStatus, 'requests_per_second' | 'error_rate' | 'failovers' | 'latency_p50_ms' | 'latency_p95_ms' | 'ttfb_p50_ms' | 'ttfb_p95_ms' | 'tokens_per_minute'>

/** "12%", with "9 failed over" under it when some did. */
function errors (f: Figures): string | HTMLElement {
  return f.failovers === 0 ? percent(f.error_rate) : twoLines(percent(f.error_rate), `${amount(f.failovers)} failed over`)
}

function traffic<Row> (figures: (row: Row) => Figures, errorsMean: string): Array<Column<Row>> {
  return [
    { label: 'Req/s', description: 'Requests answered per second, last 5 minutes', numeric: true, firstDirection: 'descending', sort: (r) => figures(r).requests_per_second, cell: (r) => amount(figures(r).requests_per_second) },
    { label: 'Errors', description: errorsMean, numeric: true, firstDirection: 'descending', sort: (r) => orLow(figures(r).error_rate), cell: (r) => errors(figures(r)) },
    { label: 'Latency p50 / p95', description: 'Whole-request latency percentiles, last 5 minutes', numeric: true, firstDirection: 'descending', sort: (r) => orLow(figures(r).latency_p95_ms), cell: (r) => pair(figures(r).latency_p50_ms, figures(r).latency_p95_ms) },
    { label: 'TTFB p50 / p95', description: 'Time to the first byte of the answer, last 5 minutes', numeric: true, firstDirection: 'descending', sort: (r) => orLow(figures(r).ttfb_p95_ms), cell: (r) => pair(figures(r).ttfb_p50_ms, figures(r).ttfb_p95_ms) },
    { label: 'Tokens/min', description: 'Prompt and completion tokens per minute, last 5 minutes', numeric: true, firstDirection: 'descending', sort: (r) => figures(r).tokens_per_minute, cell: (r) => amount(figures(r).tokens_per_minute) }
  ]
}

export interface Dashboard {
  render (view: StatusView, filter: string): void
  refilter (filter: string): void
}

export function createDashboard (root: {
  readonly totals: HTMLElement
  readonly models: HTMLTableElement
  readonly backends: HTMLTableElement
  readonly providers: HTMLTableElement
  readonly users: HTMLTableElement
}): Dashboard {
  let minutes = 15
  const backends = new SortableTable<BackendRow>(root.backends, {
    initialSort: 2,
    empty: 'No backends are configured.',
    text: (r) => `${r.model.name} ${r.backend.provider} ${r.backend.provider_name} ${r.backend.upstream_model} ${stateWords(r.backend)}`,
    state: (r) => r.backend.state,
    columns: [
      { label: 'Model', sort: (r) => r.model.name, cell: (r) => r.model.name },
      { label: 'Backend', description: 'Provider id (what "backend" pins) and the model sent upstream', sort: (r) => r.backend.provider, cell: (r) => twoLines(r.backend.provider, r.backend.upstream_model) },
      // Worst first; among the unhealthy, the longest wait for a trial first.
      { label: 'State', sort: (r) => severity(r.backend.state) * 1e6 - (r.backend.next_trial_seconds ?? 0), cell: (r) => badge(r.backend.state, stateWords(r.backend)), wrap: true },
      { label: 'Last 15 min', description: 'Requests per second (solid) and p95 latency (dashed), each scaled to its own peak', cell: (r) => drawChart(r.backend.chart, minutes) },
      { label: 'Weight', description: 'Configured → effective weight', numeric: true, firstDirection: 'descending', sort: (r) => r.backend.effective_weight, cell: (r) => weights(r.backend.weight, r.backend.effective_weight) },
      { label: 'Share', description: "Share of the model's requests in the last minute", numeric: true, firstDirection: 'descending', sort: (r) => orLow(r.backend.share), cell: (r) => percent(r.backend.share) },
      ...traffic<BackendRow>((r) => r.backend, 'Share of its attempts that failed (5xx, 408, 429, or a failure that failed over to another backend), last 5 minutes'),
      { label: 'Pinned', description: 'Requests pinned to this backend with "backend", last 5 minutes', numeric: true, firstDirection: 'descending', sort: (r) => r.backend.pinned_requests, cell: (r) => amount(r.backend.pinned_requests) },
      { label: 'Last failure', description: 'The last failure and how long ago', sort: (r) => r.backend.last_failure === null ? Infinity : r.backend.last_failure.age_seconds, cell: (r) => lastFailure(r.backend.last_failure), wrap: true }
    ]
  })
  const models = new SortableTable<ModelStatus>(root.models, {
    initialSort: 1,
    empty: 'No models are configured.',
    text: (m) => `${m.name} ${m.key} ${m.state} ${m.strategy}`,
    state: (m) => m.state,
    columns: [
      { label: 'Model', sort: (m) => m.name, cell: (m) => m.name },
      { label: 'State', sort: (m) => severity(m.state), cell: (m) => badge(m.state, m.state) },
      { label: 'Healthy backends', numeric: true, sort: (m) => m.healthy_backends, cell: (m) => `${m.healthy_backends} of ${m.backends.filter((b) => b.state !== 'disabled').length}` },
      { label: 'Strategy', sort: (m) => m.strategy, cell: (m) => m.strategy },
      ...traffic<ModelStatus>((m) => m, 'Share of requests answered with 5xx, 408 or 429, last 5 minutes; failovers that saved a request are counted apart'),
      { label: 'Pinned', numeric: true, firstDirection: 'descending', sort: (m) => m.pinned_requests, cell: (m) => amount(m.pinned_requests) }
    ]
  })
  const providers = new SortableTable<ProviderStatus>(root.providers, {
    initialSort: 1,
    empty: 'No providers are configured.',
    text: (p) => `${p.id} ${p.name} ${p.state}`,
    state: (p) => p.state,
    columns: [
      { label: 'Provider', sort: (p) => p.id, cell: (p) => p.id === p.name ? p.id : `${p.id} (${p.name})` },
      { label: 'State', sort: (p) => severity(p.state), cell: (p) => badge(p.state, p.state) },
      { label: 'Healthy backends', numeric: true, sort: (p) => p.healthy_backends, cell: (p) => `${p.healthy_backends} of ${p.backends}` },
      ...traffic<ProviderStatus>((p) => p, 'Share of its attempts that failed (5xx, 408, 429, or a failure that failed over to another backend), last 5 minutes')
    ]
  })
  const users = new SortableTable<UserStatus>(root.users, {
    initialSort: 1,
    initialDirection: 'descending',
    empty: 'No users have sent requests lately.',
    text: (u) => `${u.id} ${u.name}`,
    columns: [
      { label: 'User', sort: (u) => u.id, cell: (u) => u.id === u.name ? u.id : `${u.id} (${u.name})` },
      { label: 'Requests', description: 'Requests in the last 5 minutes', numeric: true, firstDirection: 'descending', sort: (u) => u.requests, cell: (u) => amount(u.requests) },
      { label: 'Req/min', numeric: true, firstDirection: 'descending', sort: (u) => u.requests_per_minute, cell: (u) => amount(u.requests_per_minute) },
      { label: 'Errors', numeric: true, firstDirection: 'descending', sort: (u) => orLow(u.error_rate), cell: (u) => percent(u.error_rate) },
      { label: 'Tokens', description: 'Tokens in the last 5 minutes', numeric: true, firstDirection: 'descending', sort: (u) => u.tokens, cell: (u) => amount(u.tokens) },
      { label: 'Tokens/min', numeric: true, firstDirection: 'descending', sort: (u) => u.tokens_per_minute, cell: (u) => amount(u.tokens_per_minute) },
      { label: 'Rate-limit headroom', description: 'Requests left in each window of [users.<id>.rate_limit]', sort: (u) => headroomRatio(u.rate_limit), cell: (u) => headroom(u.rate_limit) }
    ]
  })

  let last: StatusView | undefined

  function totals (view: StatusView): void {
    const t = view.totals
    const items: Array<[string, string | Node]> = [
      ['Gateway', badge(view.status, view.status)],
      ['Requests/s', amount(t.requests_per_second)],
      ['Error rate', errors(t)],
      ['Latency p50 / p95', pair(t.latency_p50_ms, t.latency_p95_ms)],
      ['TTFB p50 / p95', pair(t.ttfb_p50_ms, t.ttfb_p95_ms)],
      ['Tokens/min', amount(t.tokens_per_minute)],
      ['Pinned (5 min)', amount(t.pinned_requests)],
      ['Up for', duration(view.uptime_seconds)]
    ]
    const fragment = document.createDocumentFragment()
    for (const [term, value] of items) {
      const div = document.createElement('div')
      const dt = document.createElement('dt')
      dt.textContent = term
      const dd = document.createElement('dd')
      dd.append(value)
      div.append(dt, dd)
      fragment.append(div)
    }
    root.totals.replaceChildren(fragment)
  }

  function draw (view: StatusView, filter: string): void {
    minutes = Math.round(view.windows.chart_seconds / 60)
    totals(view)
    models.update(view.models, filter)
    backends.update(view.models.flatMap((model) => model.backends.map((backend) => ({ model, backend }))), filter)
    providers.update(view.providers, filter)
    users.update(view.users, filter)
  }

  return {
    render (view, filter) {
      last = view
      draw(view, filter)
    },
    refilter (filter) {
      if (last !== undefined) draw(last, filter)
    }
  }
}
