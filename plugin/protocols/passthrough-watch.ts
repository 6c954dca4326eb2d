/**
 * The stream converter of an answer that passes through unchanged (an
 * OpenAI backend's chat or Responses stream, a Claude backend's native
 * Messages stream): it only watches the first events, to tell the proxy
 * whether the upstream failed before its first token (then it may fail
 * over). Once an event carries the answer, it stops parsing altogether, so
 * a long answer costs nothing after its first token.
 */
import type { Usage } from '../accounting/usage-scanner.js'
import { BerryError } from '../errors.js'
import { upstreamFailure } from './event-converter.js'
import { SseParser, type SseEvent } from './sse-parser.js'
import type { StreamConverter, StreamFailure } from './types.js'

/** What one event says: the answer began, it failed, or neither yet. */
export type EventVerdict = 'content' | StreamFailure | undefined

export class PassthroughWatch implements StreamConverter {
  readonly #judge: (event: SseEvent) => EventVerdict
  #parser: SseParser | undefined
  #committed = false
  #failure: StreamFailure | undefined

  constructor (judge: (event: SseEvent) => EventVerdict) {
    this.#judge = judge
    this.#parser = new SseParser((event) => { this.#event(event) })
  }

  get committed (): boolean {
    return this.#committed
  }

  get failure (): StreamFailure | undefined {
    return this.#failure
  }

  /** The proxy's usage scanner reads the upstream's own usage as it passes. */
  get usage (): Usage | undefined {
    return undefined
  }

  push (chunk: Buffer): Buffer | undefined {
    if (this.#failure !== undefined) return undefined
    if (this.#parser !== undefined) {
      try {
        this.#parser.push(chunk)
      } catch (error) {
        if (!(error instanceof BerryError)) throw error
        this.#failure = upstreamFailure(error.message)
      }
      if (this.#committed) this.#parser = undefined
      if (this.#failure !== undefined) return undefined
    }
    return chunk
  }

  end (): Buffer | undefined {
    return undefined
  }

  #event (event: SseEvent): void {
    if (this.#committed || this.#failure !== undefined) return
    const verdict = this.#judge(event)
    if (verdict === 'content') this.#committed = true
    else if (verdict !== undefined) this.#failure = verdict
  }
}
