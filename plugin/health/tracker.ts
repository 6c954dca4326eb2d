/**
 * Per-backend health: a circuit breaker fed by the outcomes of real requests
 * (and of optional probes). Pure and synchronous: every method takes `now`
 * in milliseconds, so tests drive time by hand.
 *
 *   healthy --(threshold consecutive failures | 401/403 | 429 Retry-After)--> open
 *   open --(cooldown over; one trial admitted)--> half_open
 *   half_open --success--> healthy (recovering: weight 10% -> 30% -> 50% -> 100%)
 *   half_open --failure--> open (a fresh cooldown)
 *
 * Beside the breaker it keeps smart_ai's confidence in each backend
 * (confidence.ts, fed by the same outcomes) and a moving average of each
 * backend's latency (least_latency).
 *
 * Several instances share breaker transitions (cluster/redis-health-sync.ts):
 * an observer hears each transition made here, and `applyShared` puts in
 * place one made elsewhere without telling the observer, so news is never
 * sent back where it came from. The tracker itself does no I/O.
 */
import { DEFAULT_SMART_AI } from '../config/smart-ai.js'
import type { BreakerSettings, FailureClass, SmartAiSettings } from '../config/types.js'
import { ConfidenceBook } from './confidence.js'
import { failureClassOf } from './failure-class.js'
import type { BreakerShare } from './shared-state.js'

export type HealthState = 'healthy' | 'open' | 'half_open'

/** The weight share of a backend on its way back, by successes since recovery. */
export const RECOVERY_STEPS: readonly number[] = [0.1, 0.3, 0.5]

export interface Outcome {
  /** Upstream HTTP status, when one was received. */
  status?: number
  /** A short, secret-free description (`HTTP 500`, `connection refused`). */
  error: string
  /** A 429's Retry-After, in milliseconds. */
  retryAfterMs?: number
  /** No answer in time: a timeout rather than a network error (confidence). */
  timeout?: boolean
  /** The failure's class for confidence; derived from status and timeout when absent. */
  kind?: FailureClass
  /** A probe's verdict moves the breaker only, never confidence (real traffic does). */
  probe?: boolean
  /** A recovery check of an open circuit: failing, it re-opens it with a fresh cooldown, as a failed trial does. */
  trial?: boolean
}

/** Weight of the newest latency in the moving average (least_latency). */
export const LATENCY_EWMA_ALPHA = 0.3

export interface BackendHealth {
  state: HealthState
  consecutiveFailures: number
  /** When an open circuit admits its trial request (ms since epoch). */
  cooldownUntil: number
  /** When the half-open trial was let through; a lost trial expires. */
  trialStartedAt: number
  /** Index into RECOVERY_STEPS while recovering, or -1 at full weight. */
  recoveryStep: number
  lastError: string | undefined
  lastErrorAt: number
  /** When the current run of consecutive failures began (0 while there is none). */
  firstFailureAt: number
  /** Half-open trials let through since the run of failures began. */
  recoveryAttempts: number
  lastLatencyMs: number | undefined
  successes: number
  failures: number
}

function fresh (): BackendHealth {
  return {
    state: 'healthy',
    consecutiveFailures: 0,
    cooldownUntil: 0,
    trialStartedAt: 0,
    recoveryStep: -1,
    lastError: undefined,
    lastErrorAt: 0,
    firstFailureAt: 0,
    recoveryAttempts: 0,
    lastLatencyMs: undefined,
    successes: 0,
    failures: 0
  }
}

/**
 * Told of each breaker transition made here (opening, a trial going out,
 * closing), with the state after it. It must not block: it is called on the
 * request path.
 */
export type BreakerObserver = (key: string, state: Readonly<BackendHealth>, now: number) => void

export class HealthTracker {
  readonly #states = new Map<string, BackendHealth>()
  readonly #latency = new Map<string, number>()
  #observer: BreakerObserver | undefined
  /** smart_ai's confidence per backend, fed by `recordSuccess` and `recordFailure`. */
  readonly confidence: ConfidenceBook

  /** `smartAi` is read on every update, so a reload's new settings apply at once. */
  constructor (smartAi: () => SmartAiSettings = () => DEFAULT_SMART_AI) {
    this.confidence = new ConfidenceBook(smartAi)
  }

  /** The one observer of breaker transitions (the cluster's health sync). */
  observe (observer: BreakerObserver | undefined): void {
    this.#observer = observer
  }

  /** The moving average of a backend's latency to response headers, once one succeeded. */
  latencyMs (key: string): number | undefined {
    return this.#latency.get(key)
  }

  #get (key: string): BackendHealth {
    let state = this.#states.get(key)
    if (state === undefined) {
      state = fresh()
      this.#states.set(key, state)
    }
    return state
  }

  /** A copy of the state of one backend, for status pages. */
  snapshot (key: string): Readonly<BackendHealth> {
    return { ...(this.#states.get(key) ?? fresh()) }
  }

  /**
   * Whether a load-balanced request may go to this backend now. An open
   * circuit whose cooldown is over admits one trial at a time; a trial that
   * never reported back is given up after another cooldown.
   */
  isAvailable (key: string, now: number, breaker: BreakerSettings): boolean {
    const state = this.#states.get(key)
    if (state === undefined || state.state === 'healthy') return true
    if (state.state === 'open') return now >= state.cooldownUntil
    return now - state.trialStartedAt >= breaker.cooldownMs
  }

  /** The share of its configured weight a backend gets now (1 when healthy). */
  weightFactor (key: string): number {
    const state = this.#states.get(key)
    if (state === undefined || state.recoveryStep < 0) return 1
    return RECOVERY_STEPS[state.recoveryStep] ?? 1
  }

  /** When an unavailable backend may be tried again. */
  availableAt (key: string, breaker: BreakerSettings): number {
    const state = this.#states.get(key)
    if (state === undefined || state.state === 'healthy') return 0
    if (state.state === 'open') return state.cooldownUntil
    return state.trialStartedAt + breaker.cooldownMs
  }

  isHealthy (key: string): boolean {
    return (this.#states.get(key)?.state ?? 'healthy') === 'healthy'
  }

  /** Call when a request is sent, so an open circuit turns half-open. */
  attemptStarted (key: string, now: number): void {
    const state = this.#states.get(key)
    if (state === undefined || state.state === 'healthy') return
    if (state.state === 'open' && now < state.cooldownUntil) return
    state.state = 'half_open'
    state.trialStartedAt = now
    state.recoveryAttempts++
    this.#observer?.(key, state, now)
  }

  recordSuccess (key: string, latencyMs: number, now: number, probe = false): void {
    if (!probe) {
      const average = this.#latency.get(key)
      this.#latency.set(key, average === undefined ? latencyMs : average + LATENCY_EWMA_ALPHA * (latencyMs - average))
      this.confidence.success(key, now)
    }
    const state = this.#get(key)
    state.successes++
    state.consecutiveFailures = 0
    state.firstFailureAt = 0
    state.recoveryAttempts = 0
    state.lastLatencyMs = latencyMs
    if (state.state !== 'healthy') {
      state.state = 'healthy'
      state.recoveryStep = 0
      this.#observer?.(key, state, now)
    } else if (state.recoveryStep >= 0) {
      state.recoveryStep = state.recoveryStep + 1 < RECOVERY_STEPS.length ? state.recoveryStep + 1 : -1
    }
  }

  recordFailure (key: string, outcome: Outcome, now: number, breaker: BreakerSettings): void {
    if (outcome.probe !== true) {
      const kind = outcome.kind ?? failureClassOf(outcome)
      if (kind !== undefined) this.confidence.failure(key, kind, now)
    }
    const state = this.#get(key)
    state.failures++
    if (state.consecutiveFailures === 0) state.firstFailureAt = now
    state.consecutiveFailures++
    state.lastError = outcome.error
    state.lastErrorAt = now
    const status = outcome.status
    // A rejected key will not heal by itself, and a 429 says how long to wait:
    // neither needs a run of failures to be believed.
    const immediate = status === 401 || status === 403 || (status === 429 && outcome.retryAfterMs !== undefined)
    const failedTrial = state.state === 'half_open' || (outcome.trial === true && state.state === 'open')
    if (failedTrial || immediate || state.consecutiveFailures >= breaker.failureThreshold) {
      state.state = 'open'
      state.recoveryStep = -1
      state.cooldownUntil = now + (status === 429 && outcome.retryAfterMs !== undefined ? outcome.retryAfterMs : breaker.cooldownMs)
      this.#observer?.(key, state, now)
    }
  }

  /**
   * A transition made by another instance, put in place with this clock:
   * an open circuit cools for the time it had left there, a trial counts as
   * started that long ago. Counters and latency stay this instance's own.
   */
  applyShared (key: string, share: BreakerShare, now: number): void {
    const state = this.#get(key)
    switch (share.state) {
      case 'healthy':
        // Closed elsewhere: back at the first recovery step, as there.
        if (state.state === 'healthy') return
        state.state = 'healthy'
        state.recoveryStep = 0
        state.consecutiveFailures = 0
        return
      case 'open':
        state.state = 'open'
        state.recoveryStep = -1
        state.cooldownUntil = now + share.remainingMs
        state.lastError = share.error
        state.lastErrorAt = now
        return
      case 'half_open':
        state.state = 'half_open'
        state.recoveryStep = -1
        state.trialStartedAt = now - share.sinceMs
        return
      default: {
        const never: never = share
        return never
      }
    }
  }

  /** Forget backends that are no longer configured (after a reload). */
  retain (keys: ReadonlySet<string>): void {
    for (const key of this.#states.keys()) {
      if (!keys.has(key)) this.#states.delete(key)
    }
    for (const key of this.#latency.keys()) {
      if (!keys.has(key)) this.#latency.delete(key)
    }
    this.confidence.retain(keys)
  }
}
