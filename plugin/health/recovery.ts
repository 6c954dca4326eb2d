/**
 * Recovery checks (`recovery_check_interval_seconds`): every interval, each
 * backend whose circuit is open and that is billed per token gets one
 * minimal real request, a 1-token completion with its upstream model,
 * bounded by `health_check_timeout_seconds`. An answer closes the circuit
 * (the backend comes back at 10% of its weight, then 30%, 50%, 100%); a
 * failure counts as a failed trial (a fresh cooldown). It is a real request,
 * so its outcome moves smart_ai's confidence like any other.
 *
 * Backends billed per request are never checked: each check would cost a
 * request, so they recover from passive traffic only (the breaker's trial
 * after the cooldown, and smart_ai's trickle).
 */
import type { Dispatcher } from 'undici'
import type { Backend, BerryConfig } from '../config/types.js'
import { failureClassOf } from './failure-class.js'
import { recoveryRequest, sendCheck, type CheckResult, type RecoveryRequestBuilder } from './check-request.js'
import type { HealthTracker } from './tracker.js'

export interface RecoveryDeps {
  readonly current: () => BerryConfig
  readonly health: HealthTracker
  readonly dispatcher: Dispatcher
  readonly now: () => number
  /** The minimal request for a backend (default: an OpenAI 1-token chat completion). */
  readonly recoveryRequest?: RecoveryRequestBuilder
}

/**
 * The backends due a check: circuit open (not half-open: a trial is already
 * on its way), billed per token, enabled with their provider. One per
 * backend key, however many models share it.
 */
export function recoveryTargets (config: BerryConfig, health: HealthTracker): Backend[] {
  const targets = new Map<string, Backend>()
  for (const model of config.models.values()) {
    for (const backend of model.backends) {
      if (!backend.enabled || !backend.provider.enabled || backend.billingMode === 'per_request') continue
      if (targets.has(backend.key) || health.snapshot(backend.key).state !== 'open') continue
      targets.set(backend.key, backend)
    }
  }
  return [...targets.values()]
}

export interface RecoveryResult extends CheckResult {
  readonly backend: string
}

export async function checkRecovery (backend: Backend, deps: RecoveryDeps): Promise<RecoveryResult> {
  const request = (deps.recoveryRequest ?? recoveryRequest)(backend)
  const check = await sendCheck(deps.dispatcher, backend.provider.origin, request, deps.current().settings.healthCheckTimeoutMs)
  const now = deps.now()
  if (check.ok) {
    deps.health.recordSuccess(backend.key, check.latencyMs, now)
  } else if (failureClassOf(check) !== undefined) {
    deps.health.recordFailure(backend.key, {
      error: `recovery check: ${check.result}`,
      timeout: check.timeout,
      trial: true,
      ...(check.status === undefined ? {} : { status: check.status })
    }, now, backend.provider.breaker)
  }
  // Any other answer (a 400: the check itself is wrong for this backend)
  // proves nothing either way; the breaker's own trial will tell.
  return { ...check, backend: backend.key }
}

export async function runRecoveryChecks (deps: RecoveryDeps): Promise<RecoveryResult[]> {
  return Promise.all(recoveryTargets(deps.current(), deps.health).map((b) => checkRecovery(b, deps)))
}
