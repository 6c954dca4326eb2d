/**
 * How the page writes figures and states: pure functions, no DOM, so they
 * are unit-tested in Node as well as run in the browser.
 */
import type { BackendState, BackendStatus, GroupState, RateLimitHeadroom } from '../view-types.js'

/** A backend's state in words, with its timing: what a person reads before any colour. */
export function stateWords (backend: Pick<BackendStatus, 'state' | 'next_trial_seconds' | 'recovery_percent' | 'consecutive_failures'>): string {
  switch (backend.state) {
    case 'healthy': return 'healthy'
    case 'failing': return `failing (${backend.consecutive_failures} in a row)`
    case 'unhealthy': {
      const wait = backend.next_trial_seconds
      return wait === null || wait <= 0 ? 'unhealthy, trial due' : `unhealthy, next trial in ${duration(wait)}`
    }
    case 'half_open': return 'half-open, trial under way'
    case 'recovering': return `recovering, ${backend.recovery_percent ?? 0}% of weight`
    case 'disabled': return 'disabled'
    default: return unreachable(backend.state)
  }
}

function unreachable (state: never): string {
  return String(state)
}

/** Worst first: the page's default order. */
const SEVERITY: Readonly<Record<BackendState | GroupState, number>> = {
  unhealthy: 0, half_open: 1, failing: 2, degraded: 2, recovering: 3, healthy: 4, disabled: 5
}

export function severity (state: BackendState | GroupState): number {
  return SEVERITY[state]
}

/** 42 s, 3 min 5 s, 2 h 4 min. */
export function duration (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return s % 60 === 0 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  const m = Math.floor(s / 60)
  return m % 60 === 0 ? `${Math.floor(m / 60)} h` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** Rates and counts: three significant digits at most, never an exponent. */
export function amount (value: number): string {
  if (value === 0) return '0'
  const abs = Math.abs(value)
  if (abs >= 100) return Math.round(value).toLocaleString('en-US')
  if (abs >= 10) return value.toFixed(1).replace(/\.0$/, '')
  if (abs >= 1) return value.toFixed(2).replace(/\.?0+$/, '')
  if (abs >= 0.01) return value.toFixed(3).replace(/\.?0+$/, '')
  return '<0.01'
}

export function percent (ratio: number | null): string {
  if (ratio === null) return '-'
  if (ratio === 0) return '0%'
  const p = ratio * 100
  return p < 0.1 ? '<0.1%' : `${p < 10 ? p.toFixed(1).replace(/\.0$/, '') : Math.round(p)}%`
}

export function millis (ms: number | null): string {
  if (ms === null) return '-'
  if (ms >= 10_000) return `${amount(ms / 1000)} s`
  return `${ms >= 100 ? Math.round(ms) : amount(ms)} ms`
}

/** "120 / 840 ms": a p50 and a p95, the unit once when they share it. */
export function pair (p50: number | null, p95: number | null): string {
  if (p50 === null && p95 === null) return '-'
  const low = millis(p50)
  const high = millis(p95)
  const unit = / (ms|s)$/.exec(low)?.[0]
  return unit !== undefined && high.endsWith(unit) ? `${low.slice(0, -unit.length)} / ${high}` : `${low} / ${high}`
}

/** "HTTP 502, 12 s ago". */
export function lastFailure (failure: BackendStatus['last_failure']): string {
  return failure === null ? '-' : `${failure.reason}, ${duration(failure.age_seconds)} ago`
}

/** "1 → 0.3": configured and effective weight, one figure when they agree. */
export function weights (weight: number, effective: number): string {
  return weight === effective ? amount(weight) : `${amount(weight)} → ${amount(effective)}`
}

/** "minute: 45 of 60 left (resets in 12 s); day: 900 of 1,000 left". */
export function headroom (windows: readonly RateLimitHeadroom[]): string {
  if (windows.length === 0) return 'no limit'
  return windows.map((w) => {
    const left = w.remaining === null ? 'unknown' : `${amount(w.remaining)} of ${amount(w.limit)} left`
    const reset = w.reset_seconds === null ? '' : ` (resets in ${duration(w.reset_seconds)})`
    return `${w.window}: ${left}${reset}`
  }).join('; ')
}

/** The tightest window's share left, for sorting users by headroom (1 without limits). */
export function headroomRatio (windows: readonly RateLimitHeadroom[]): number {
  let least = 1
  for (const w of windows) if (w.remaining !== null && w.limit > 0) least = Math.min(least, w.remaining / w.limit)
  return least
}
