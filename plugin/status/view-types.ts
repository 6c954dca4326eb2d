/**
 * The JSON of `GET /admin/status`, shared by the builder (status-view.ts)
 * and the page's script, so that a renamed field fails both type-checks.
 * Types only: nothing here runs, in Node or in the browser.
 */

/**
 * The gateway, a model or a provider as a whole: unhealthy when load
 * balancing has no healthy backend left (what makes GET /health answer 503),
 * degraded when some backend is not fully healthy.
 */
export type OverallState = 'healthy' | 'degraded' | 'unhealthy'

/** A model or a provider switched off in the config is shown, as disabled. */
export type GroupState = OverallState | 'disabled'

/**
 * A backend's state, from its circuit breaker:
 * - healthy: in rotation at full weight;
 * - failing: in rotation, but its last requests failed (below the breaker's threshold);
 * - unhealthy: the circuit is open, no load-balanced traffic until the next trial;
 * - half_open: one trial request is being let through;
 * - recovering: back after a successful trial, at a share of its weight;
 * - disabled: switched off in the config (itself or its provider).
 */
export type BackendState = 'healthy' | 'failing' | 'unhealthy' | 'half_open' | 'recovering' | 'disabled'

/** Traffic over the stats window (`windows.stats_seconds`). */
export interface TrafficFigures {
  /** Requests answered (by this backend, for a backend). */
  readonly requests: number
  readonly requests_per_second: number
  /**
   * The share that failed (5xx, 408, 429, or a failure that failed over);
   * null without traffic. For a backend or a provider, of the attempts it
   * got: its failed answers and its failures that failed over, per request
   * answered and failure failed over. For a model and the gateway, of the
   * requests: what clients saw.
   */
  readonly error_rate: number | null
  /** Attempts that failed and went on to another backend. */
  readonly failovers: number
  readonly latency_p50_ms: number | null
  readonly latency_p95_ms: number | null
  /** Time to the answer's first byte. */
  readonly ttfb_p50_ms: number | null
  readonly ttfb_p95_ms: number | null
  readonly tokens_per_minute: number
  readonly pinned_requests: number
}

export interface LastFailure {
  /** Secret-free (`HTTP 502`, `connection refused`). */
  readonly reason: string
  readonly age_seconds: number
}

/**
 * One value per bucket over `windows.chart_seconds`, oldest first; null
 * before counting began. Whole numbers (a chart needs no more), which keeps
 * 180 figures per backend cheap to build and to send.
 */
export interface BackendChart {
  /** Requests per minute in each bucket (the current one: so far). */
  readonly requests_per_minute: ReadonlyArray<number | null>
  /** Null for a bucket without requests. */
  readonly latency_p95_ms: ReadonlyArray<number | null>
}

export interface BackendStatus extends TrafficFigures {
  /** Provider id: what `"backend"` pins. */
  readonly provider: string
  readonly provider_name: string
  /** The model name sent upstream. */
  readonly upstream_model: string
  readonly enabled: boolean
  readonly state: BackendState
  /** While unhealthy: seconds until a trial request is let through (0: due now). */
  readonly next_trial_seconds: number | null
  /** While recovering: the share of its weight it gets, in percent. */
  readonly recovery_percent: number | null
  readonly consecutive_failures: number
  readonly weight: number
  /** What load balancing gives it now: 0 while out of rotation, a share while recovering. */
  readonly effective_weight: number
  readonly priority: number
  /** Its share of the model's requests over `windows.share_seconds`; null when the model had none. */
  readonly share: number | null
  readonly last_failure: LastFailure | null
  readonly chart: BackendChart
}

export interface ModelStatus extends TrafficFigures {
  readonly name: string
  readonly key: string
  readonly enabled: boolean
  readonly strategy: string
  readonly state: GroupState
  readonly healthy_backends: number
  readonly backends: readonly BackendStatus[]
}

export interface ProviderStatus extends TrafficFigures {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly state: GroupState
  readonly backends: number
  readonly healthy_backends: number
}

export type RateLimitWindow = 'minute' | 'hour' | 'day'

export interface RateLimitHeadroom {
  readonly window: RateLimitWindow
  readonly limit: number
  /** Requests left in the current window; null when the counter store could not be read. */
  readonly remaining: number | null
  /** Seconds until the window starts afresh; null when unknown. */
  readonly reset_seconds: number | null
}

export interface UserStatus {
  readonly id: string
  readonly name: string
  readonly requests: number
  readonly requests_per_minute: number
  readonly error_rate: number | null
  readonly tokens: number
  readonly tokens_per_minute: number
  /** Empty for a user without `[users.<id>.rate_limit]`. */
  readonly rate_limit: readonly RateLimitHeadroom[]
}

export interface StatusWindows {
  readonly bucket_seconds: number
  /** Rates, error rates, percentiles and token rates. */
  readonly stats_seconds: number
  /** Each backend's share of its model's traffic. */
  readonly share_seconds: number
  readonly chart_seconds: number
}

export interface StatusView {
  readonly status: OverallState
  readonly generated_at: string
  readonly uptime_seconds: number
  readonly windows: StatusWindows
  readonly totals: TrafficFigures
  readonly models: readonly ModelStatus[]
  readonly providers: readonly ProviderStatus[]
  readonly users: readonly UserStatus[]
}
