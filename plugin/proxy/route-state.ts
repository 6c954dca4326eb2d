/**
 * What berry knows about one proxied request, kept on the request under
 * `kRoute` from the preHandler to the last byte.
 */
import type { Backend, Model } from '../config/types.js'
import type { Usage } from '../usage/usage-parser.js'
import type { AttemptControl } from './dispatcher.js'

export interface AttemptRecord {
  readonly provider: string
  readonly model: string
  /** Upstream status, when one arrived. */
  readonly status: number | undefined
  /** `HTTP 500`, `connection refused`, `timeout after 30s`, or `ok`. */
  readonly result: string
}

export interface RouteState {
  /** The model name as the client sent it (messages quote it back). */
  readonly requestedModel: string
  readonly model: Model
  readonly pinned: boolean
  /** The client's body without `backend`; `model` is set per attempt. */
  readonly body: Record<string, unknown>
  /** The path after `/v1` (`/chat/completions`). */
  readonly path: string
  /** performance.now() when the preHandler started. */
  readonly startedAt: number
  /** The first choice was a last resort: every backend was unhealthy. */
  readonly lastResort: boolean
  backend: Backend
  readonly tried: Set<string>
  readonly attempts: AttemptRecord[]
  attemptStartedAt: number
  control: AttemptControl
  /** Names of the response headers copied from the current attempt. */
  upstreamHeaderNames: string[]
  /** The client went away: nothing more to send, and no backend to blame. */
  clientGone: boolean
  /** Tokens the upstream reported for the answer the client got (request-log.ts). */
  usage?: Usage
  /** Time to the answering upstream's response headers, in ms (request-log.ts). */
  ttfbMs?: number
  /** Why the answer's body broke off after it had begun (request-log.ts). */
  bodyError?: string
}
