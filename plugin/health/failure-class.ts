/**
 * What kind of failure an upstream outcome is, for smart_ai's confidence
 * (`[settings.smart_ai.confidence_adjustments]` has one penalty per class).
 *
 * The original system classified its error *messages* by substring ("401",
 * "timeout", "model" + "not found"); berry classifies what the proxy
 * actually saw: a status, or a network error with its timeout flag.
 */
import type { FailureClass } from '../config/types.js'

export const FAILURE_CLASSES: readonly FailureClass[] = ['network', 'auth', 'rate_limit', 'server', 'model', 'timeout']

export interface ObservedOutcome {
  /** The upstream's HTTP status, when an answer arrived. */
  readonly status?: number | undefined
  /** No answer in time (connect or response headers). */
  readonly timeout?: boolean | undefined
  /** The answer's body, when the caller has it (error bodies are small). */
  readonly body?: string | undefined
}

/**
 * A 400 whose body says the model does not exist. OpenAI answers 404
 * `model_not_found`; several compatible servers answer 400 with a message.
 */
export function saysModelNotFound (body: string | undefined): boolean {
  if (body === undefined) return false
  const text = body.slice(0, 4096).toLowerCase()
  return text.includes('model_not_found') ||
    (text.includes('model') && (text.includes('not found') || text.includes('does not exist') || text.includes('not exist')))
}

/**
 * The class of a failed outcome, or undefined when the outcome is not the
 * backend's fault (a 400 about the client's own request, a 2xx).
 *
 * - no status: `timeout` when it timed out, else `network` (refused, reset, DNS, TLS)
 * - 401, 403: `auth`; 429: `rate_limit`; 408, 504: `timeout`; other 5xx: `server`
 * - 404: `model`: berry sends every request to a fixed API path, so a 404
 *   means this backend does not serve the upstream model it is configured with
 * - 400 with a model-not-found body: `model`
 */
export function failureClassOf (outcome: ObservedOutcome): FailureClass | undefined {
  const status = outcome.status
  if (status === undefined) return outcome.timeout === true ? 'timeout' : 'network'
  if (status === 401 || status === 403) return 'auth'
  if (status === 429) return 'rate_limit'
  if (status === 408 || status === 504) return 'timeout'
  if (status >= 500) return 'server'
  if (status === 404) return 'model'
  if (status === 400 && saysModelNotFound(outcome.body)) return 'model'
  return undefined
}
