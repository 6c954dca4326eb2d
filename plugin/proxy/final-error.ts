/**
 * What the client gets when no attempt of a request succeeded: the one
 * attempt's own error, a summary of every attempt, or (all rate limited) a
 * 429 with the soonest Retry-After. Messages name provider ids only.
 */
import { AllAttemptsFailed, NoBackendAvailable, UpstreamRateLimited, type BerryError } from '../errors.js'
import { UPSTREAM_BUSY } from './outcome.js'
import type { AttemptRecord, RouteState } from './route-state.js'

/** The smallest Retry-After of the attempts, in whole seconds, if any had one. */
export function soonestRetryAfter (attempts: readonly AttemptRecord[]): number | undefined {
  let soonest: number | undefined
  for (const attempt of attempts) {
    if (attempt.retryAfterMs !== undefined && (soonest === undefined || attempt.retryAfterMs < soonest)) soonest = attempt.retryAfterMs
  }
  return soonest === undefined ? undefined : Math.ceil(soonest / 1000)
}

/** The error for a request whose every attempt failed; `single` when there was one attempt. */
export function finalError (route: RouteState, single: BerryError, cause: unknown): BerryError {
  const { attempts } = route
  // Rate limited everywhere is not an outage: say so as OpenAI would, so
  // clients back off for the soonest Retry-After rather than give up.
  if (attempts.length > 1 && attempts.every((a) => a.status === 429)) {
    return UpstreamRateLimited(route.requestedModel, attempts.map((a) => a.provider), soonestRetryAfter(attempts))
  }
  // No free connection anywhere tried: the gateway's own limit, not an outage.
  if (attempts.every((a) => a.result === UPSTREAM_BUSY)) return single
  const summary = attempts.map((a) => `${a.provider}: ${a.result}`)
  if (route.lastResort) return NoBackendAvailable(route.requestedModel, `every backend is unhealthy; tried ${summary.join('; ')}`)
  if (attempts.length > 1) return AllAttemptsFailed(route.requestedModel, summary, { cause })
  return single
}
