/**
 * The usage record of one proxied request: what `onUsage` gets, and what
 * the usage store (cluster/usage-store.ts) adds to the totals per day, user,
 * model and backend. Pinned requests are counted like any other: the spec
 * bills them normally.
 */

/** One proxied request, as handed to `onUsage`. */
export interface UsageRecord {
  /** Fastify's request id (also in the log line). */
  readonly requestId: string
  readonly user: string
  /** The public model name; '' when the request named no configured model. */
  readonly model: string
  /** The provider id that answered; '' when no backend was chosen. */
  readonly backend: string
  readonly pinned: boolean
  /** The status the client got (499: the client left before the end). */
  readonly status: number
  readonly latencyMs: number
  /** Upstream attempts (more than one after a failover). */
  readonly attempts: number
  readonly promptTokens: number
  readonly completionTokens: number
  readonly totalTokens: number
  /** False when the upstream reported no usage (a stream without `include_usage`). */
  readonly tokensReported: boolean
  /** When the request ended, in ms since the epoch. */
  readonly time: number
}
