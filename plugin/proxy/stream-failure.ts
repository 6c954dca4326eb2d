/**
 * An upstream stream that failed in its own words: an error event (Anthropic's
 * `overloaded_error` after a 200, OpenAI's `{"error": ...}` chunk), or a
 * protocol that stopped before its last event. Before the first token it is
 * a failed attempt like a 529 (failover may follow); after, the client's
 * stream ends with berry's error event.
 */
import type { StreamFailure } from '../protocols/types.js'

export class UpstreamStreamFailed extends Error {
  readonly failure: StreamFailure
  /** Content had reached the client when it failed. */
  readonly afterFirstToken: boolean

  constructor (failure: StreamFailure, afterFirstToken: boolean) {
    super(`the upstream's stream failed (${failure.status} ${failure.type}): ${failure.message}`)
    this.name = 'UpstreamStreamFailed'
    this.failure = failure
    this.afterFirstToken = afterFirstToken
  }
}

/** The stream failure behind `error` (reply-from wraps what undici reports), if it is one. */
export function streamFailureOf (error: unknown): StreamFailure | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof UpstreamStreamFailed) return current.failure
    current = Reflect.get(current, 'cause')
  }
  return undefined
}
