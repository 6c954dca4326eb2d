/**
 * The three kinds of checks berry runs on its own, each on its own timer:
 * probes (`health_check_interval_seconds`, off by default), recovery checks
 * of open backends (`recovery_check_interval_seconds`) and smart_ai's
 * connectivity checks (`settings.smart_ai.lightweight_check_interval_seconds`).
 * Intervals are read once, at start; the checks read the config in force
 * at each tick. Timers never hold the process open, and a round still
 * running when the next is due makes that one skip.
 */
import type { Dispatcher } from 'undici'
import type { BerryConfig } from '../config/types.js'
import type { ModelsRequestBuilder, RecoveryRequestBuilder } from './check-request.js'
import { runConnectivityChecks } from './connectivity.js'
import { runProbes } from './prober.js'
import { runRecoveryChecks } from './recovery.js'
import type { HealthTracker } from './tracker.js'

export interface HealthCheckDeps {
  readonly current: () => BerryConfig
  readonly health: HealthTracker
  readonly dispatcher: Dispatcher
  readonly now: () => number
  readonly modelsRequest?: ModelsRequestBuilder
  readonly recoveryRequest?: RecoveryRequestBuilder
}

function every (intervalMs: number, task: () => Promise<unknown>): () => void {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    task().catch(() => {}).finally(() => { running = false })
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

/** Starts the checks the settings turn on; returns one function that stops them all. */
export function startHealthChecks (deps: HealthCheckDeps): () => void {
  const { settings } = deps.current()
  const stops: Array<() => void> = []
  if (settings.healthCheckIntervalMs > 0) stops.push(every(settings.healthCheckIntervalMs, () => runProbes(deps)))
  if (settings.recoveryCheckIntervalMs > 0) stops.push(every(settings.recoveryCheckIntervalMs, () => runRecoveryChecks(deps)))
  if (settings.smartAi.lightweightCheckIntervalMs > 0) stops.push(every(settings.smartAi.lightweightCheckIntervalMs, () => runConnectivityChecks(deps)))
  return () => {
    for (const stop of stops) stop()
  }
}
