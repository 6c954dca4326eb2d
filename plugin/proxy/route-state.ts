/**
 * Where one proxied request goes: kept on the request under `kRoute` from
 * the preHandler to the last byte. Routing only: what accounting learns
 * about the request is accounting's own (request-accounting.ts).
 */
import type { Backend, Model } from '../config/types.js'
import type { Api } from '../protocols/types.js'
import type { Snapshot } from '../snapshot.js'
import type { BerryUser } from '../user.js'
import type { Attempt } from './attempt.js'
import type { AttemptControl } from './attempt-control.js'

export interface AttemptRecord {
  readonly provider: string
  readonly model: string
  /** Upstream status, when one arrived. */
  readonly status: number | undefined
  /** `HTTP 500`, `connection refused`, `timeout after 30s`, or `ok`. */
  readonly result: string
  /** A 429's Retry-After, in ms. */
  readonly retryAfterMs: number | undefined
}

export interface RouteState {
  /** The config snapshot the request was routed with; it finishes on it, whatever a reload does. */
  readonly snapshot: Snapshot
  /** The caller: failover keeps to the backends their tags allow. */
  readonly user: BerryUser
  /** The model name as the client sent it (messages quote it back). */
  readonly requestedModel: string
  readonly model: Model
  /** The client named the backend (`backend` in the body): no failover, and counted as pinned. */
  readonly pinned: boolean
  /**
   * The request can only go to this backend though the client pinned
   * nothing: a stored response lives where it was made (`previous_response_id`,
   * `GET /v1/responses/{id}`). No failover.
   */
  readonly sticky: boolean
  /** The answer's usage is new spending (not a stored response read back). */
  readonly countTokens: boolean
  /** The client's body without `backend` (the OpenAI protocol sets `model` in it per attempt). */
  readonly body: Record<string, unknown>
  /** The OpenAI route the client called. */
  readonly api: Api
  /** The first choice was a last resort: every backend was unhealthy. */
  readonly lastResort: boolean
  /** The backend of the current attempt (`attempt.backend`). */
  backend: Backend
  /** The current attempt's request, in the backend's protocol. */
  attempt: Attempt
  /** Backends tried, or passed over because their protocol could not carry the request: failover skips them. */
  readonly tried: Set<string>
  readonly attempts: AttemptRecord[]
  /** performance.now() when the current attempt went upstream. */
  attemptStartedAt: number
  control: AttemptControl
  /** Names of the response headers copied from the current attempt. */
  upstreamHeaderNames: string[]
  /** The client went away: nothing more to send, and no backend to blame. */
  clientGone: boolean
}
