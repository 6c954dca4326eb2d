/**
 * What every converting stream shares: the SSE parser, the output gathered
 * during one `push`, and the failure rules of StreamConverter (types.ts).
 * A subclass handles one event at a time and says what ends its protocol.
 */
import { BerryError } from '../errors.js'
import type { Usage } from '../accounting/usage-scanner.js'
import { SseParser, type SseEvent } from './sse-parser.js'
import type { StreamConverter, StreamFailure } from './types.js'

/** The upstream broke its own protocol: a 502 in the client's eyes. */
export function upstreamFailure (message: string): StreamFailure {
  return { status: 502, type: 'upstream_error', message }
}

export abstract class EventConverter implements StreamConverter {
  readonly #parser: SseParser
  #out = ''
  #failure: StreamFailure | undefined
  #finished = false
  #committed = false
  #usage: Usage | undefined

  constructor () {
    this.#parser = new SseParser((event) => {
      if (this.#failure !== undefined || this.#finished) return
      try {
        this.onEvent(event)
      } catch (error) {
        // JSON of the wrong shape (a field missing where the protocol has one).
        if (error instanceof TypeError) this.fail(upstreamFailure(`The upstream sent an event berry could not read: ${error.message}`))
        else throw error
      }
    })
  }

  get committed (): boolean {
    return this.#committed
  }

  get failure (): StreamFailure | undefined {
    return this.#failure
  }

  get usage (): Usage | undefined {
    return this.#usage
  }

  /** What this push made, even when it also failed: those bytes came before the error. */
  push (chunk: Buffer): Buffer | undefined {
    if (this.#failure !== undefined || this.#finished) return undefined
    try {
      this.#parser.push(chunk)
    } catch (error) {
      if (!(error instanceof BerryError)) throw error
      this.fail(upstreamFailure(error.message))
    }
    return this.#take()
  }

  end (): Buffer | undefined {
    if (this.#failure !== undefined) return undefined
    this.#parser.end()
    if (!this.#finished) this.onEnd()
    return this.#take()
  }

  /** One event of the upstream's stream. */
  protected abstract onEvent (event: SseEvent): void
  /** The body ended before the protocol's last event: finish, or fail. */
  protected abstract onEnd (): void

  protected emit (text: string): void {
    this.#out += text
  }

  protected commit (): void {
    this.#committed = true
  }

  protected setUsage (usage: Usage): void {
    this.#usage = usage
  }

  /** The protocol's last event came: anything after it is ignored. */
  protected finish (): void {
    this.#finished = true
  }

  protected fail (failure: StreamFailure): void {
    if (this.#failure === undefined) this.#failure = failure
  }

  #take (): Buffer | undefined {
    if (this.#out === '') return undefined
    const out = Buffer.from(this.#out)
    this.#out = ''
    return out
  }
}
