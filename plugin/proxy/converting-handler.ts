/**
 * The undici handler of a streamed attempt: its 2xx event stream goes
 * through the attempt's converter (an Anthropic or Gemini stream becomes
 * OpenAI chunks; an OpenAI stream passes unchanged, only watched), and the
 * response is held back until the converter commits, i.e. until the first
 * token (text or a tool call) arrives.
 *
 * Why hold: providers often answer 200 and then fail before any content
 * (Anthropic's `overloaded_error` as its first event, a stream cut after the
 * role chunk). Until the first token nothing has reached the client, so such
 * an attempt fails over like a 529 would: the handler reports it to
 * reply-from as an error (`UpstreamStreamFailed`), which brings it to the
 * handoff's onError. Holding costs no time to first token: what is held is
 * exactly what comes before it (headers, `message_start`, `ping`, a role
 * chunk), at most a few events.
 *
 * After the first token a failure cannot be undone: the client's stream
 * ends with berry's SSE error event and no `[DONE]`, as a cut stream does.
 * Anything that is not a 2xx event stream (errors, JSON) passes through
 * untouched, as in AttemptHandler.
 */
import type { StreamConverter } from '../protocols/types.js'
import { connectAttempt, type Abort, type AttemptControl, type CallbackHandler } from './attempt-control.js'
import { UpstreamStreamFailed } from './stream-failure.js'

interface HeldHeaders {
  readonly statusCode: number
  readonly headers: Buffer[]
  readonly resume: () => void
  readonly statusText: string
}

const CONTENT_TYPE = 'content-type'
const EVENT_STREAM = 'text/event-stream'

/** Whether undici's raw headers (name, value, name, value, ...) say `text/event-stream`. */
export function isEventStreamHeaders (headers: readonly Buffer[]): boolean {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]
    if (name === undefined || name.length !== CONTENT_TYPE.length || name.toString('latin1').toLowerCase() !== CONTENT_TYPE) continue
    return headers[i + 1]?.toString('latin1').trimStart().toLowerCase().startsWith(EVENT_STREAM) ?? false
  }
  return false
}

export class ConvertingHandler implements CallbackHandler {
  readonly #handler: CallbackHandler
  readonly #control: AttemptControl
  readonly #transform: StreamConverter
  #abort: Abort | undefined
  /** berry's side (the client leaving) aborted the request. */
  #aborted = false
  /** The answer is a 2xx event stream, going through the converter. */
  #converting = false
  /** Headers not passed on yet: nothing of this answer has reached the client. */
  #held: HeldHeaders | undefined
  #heldData: Buffer[] = []
  /** The inner handler has been told how this request ends: what undici says next is not passed on. */
  #done = false

  constructor (handler: CallbackHandler, control: AttemptControl, transform: StreamConverter) {
    this.#handler = handler
    this.#control = control
    this.#transform = transform
  }

  onConnect (abort: Abort, context?: unknown): void {
    this.#abort = abort
    connectAttempt(this.#control, this.#handler, abort, context, () => { this.#aborted = true })
  }

  onResponseStarted (): void {
    this.#handler.onResponseStarted?.()
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.#control.headersAt = performance.now()
    if (statusCode >= 200 && statusCode < 300 && isEventStreamHeaders(headers)) {
      this.#converting = true
      this.#held = { statusCode, headers, resume, statusText }
      return true
    }
    return this.#handler.onHeaders(statusCode, headers, resume, statusText)
  }

  onData (chunk: Buffer): boolean {
    if (this.#done) return false
    if (!this.#converting) return this.#deliver(chunk)
    const out = this.#transform.push(chunk)
    let more = true
    if (out !== undefined) {
      if (this.#held === undefined) more = this.#deliver(out)
      else this.#heldData.push(out)
    }
    const failure = this.#transform.failure
    if (failure !== undefined) {
      this.#fail(new UpstreamStreamFailed(failure, this.#held === undefined))
      return false
    }
    if (this.#held !== undefined && this.#transform.committed) more = this.#release()
    return more
  }

  onComplete (trailers: string[] | null): void {
    if (this.#done) return
    this.#control.abort = undefined
    this.#control.cut = undefined
    if (this.#converting) {
      const rest = this.#transform.end()
      if (rest !== undefined) this.#heldData.push(rest)
      const failure = this.#transform.failure
      if (failure !== undefined) {
        // It stopped before its protocol's last event: not a complete answer.
        this.#fail(new UpstreamStreamFailed(failure, this.#held === undefined))
        return
      }
      // A complete answer that never carried a token (an empty completion) goes out whole.
      if (this.#held !== undefined) this.#release()
      else for (const data of this.#heldData.splice(0)) this.#deliver(data)
    }
    this.#done = true
    this.#control.tap?.onEnd(undefined, this.#transform.usage)
    this.#handler.onComplete(trailers)
  }

  onError (error: Error): void {
    if (this.#done) return
    this.#done = true
    this.#control.abort = undefined
    this.#control.cut = undefined
    if (this.#held !== undefined) {
      // Before the first token: a plain failed attempt (failover may follow).
      this.#held = undefined
      this.#heldData = []
      this.#handler.onError(error)
      return
    }
    if (this.#aborted) {
      this.#control.tap?.onEnd(undefined, this.#transform.usage)
      this.#handler.onError(error)
      return
    }
    this.#end(error)
  }

  onUpgrade (): void {
    this.#handler.onError(new Error('berry: an upstream answered a streamed request with an upgrade'))
  }

  onBodySent (chunkSize: number, totalBytesSent: number): void {
    this.#handler.onBodySent?.(chunkSize, totalBytesSent)
  }

  #deliver (data: Buffer): boolean {
    this.#control.tap?.onChunk(data)
    return this.#handler.onData(data)
  }

  /** Passes the held headers on (berry's onResponse runs inside), then what came with them. */
  #release (): boolean {
    const held = this.#held
    if (held === undefined) return true
    this.#held = undefined
    let more = this.#handler.onHeaders(held.statusCode, held.headers, held.resume, held.statusText)
    for (const data of this.#heldData.splice(0)) more = this.#deliver(data)
    return more
  }

  /** The stream failed in its own words: stop reading it and tell the inner handler. */
  #fail (error: UpstreamStreamFailed): void {
    const held = this.#held !== undefined
    this.#done = true
    this.#held = undefined
    this.#heldData = []
    this.#control.abort = undefined
    this.#control.cut = undefined
    // undici reports the abort back through onError, which `#done` silences.
    this.#abort?.(error)
    if (held) this.#handler.onError(error)
    else this.#end(error)
  }

  /** Ends the body of an answer that began: cleanly, or in berry's words after a failure. */
  #end (error: Error | undefined): void {
    const last = this.#control.tap?.onEnd(error, this.#transform.usage)
    if (error === undefined || last !== undefined) {
      if (last !== undefined) this.#handler.onData(last)
      this.#handler.onComplete([])
      return
    }
    this.#handler.onError(error)
  }
}
