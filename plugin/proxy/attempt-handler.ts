/**
 * The undici handler of an attempt whose answer passes through as it came
 * (every attempt but a streamed one through a converter: converting-handler.ts).
 */
import type { Duplex } from 'node:stream'
import { connectAttempt, type Abort, type AttemptControl, type CallbackHandler } from './attempt-control.js'

/**
 * Delegates to the request's own handler, keeping the abort for berry and
 * letting the tap see the body. undici calls the request callback (and so
 * reply-from's `onResponse`, where the tap is set) from inside `onHeaders`,
 * before the first `onData`: the tap sees every chunk.
 */
export class AttemptHandler implements CallbackHandler {
  readonly #handler: CallbackHandler
  readonly #control: AttemptControl
  /** berry's side (the client leaving) aborted the request. */
  #aborted = false

  constructor (handler: CallbackHandler, control: AttemptControl) {
    this.#handler = handler
    this.#control = control
  }

  onConnect (abort: Abort, context?: unknown): void {
    connectAttempt(this.#control, this.#handler, abort, context, () => { this.#aborted = true })
  }

  onResponseStarted (): void {
    this.#handler.onResponseStarted?.()
  }

  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    this.#control.headersAt = performance.now()
    return this.#handler.onHeaders(statusCode, headers, resume, statusText)
  }

  onData (chunk: Buffer): boolean {
    this.#control.tap?.onChunk(chunk)
    return this.#handler.onData(chunk)
  }

  onComplete (trailers: string[] | null): void {
    this.#control.abort = undefined
    this.#control.cut = undefined
    this.#control.tap?.onEnd(undefined)
    this.#handler.onComplete(trailers)
  }

  onError (error: Error): void {
    this.#control.abort = undefined
    this.#control.cut = undefined
    const tap = this.#control.tap
    const last = tap?.onEnd(this.#aborted ? undefined : error)
    if (last !== undefined && !this.#aborted) {
      // The upstream broke off, and the tap ends the body in its own words:
      // the client sees a complete response, not a broken connection.
      this.#handler.onData(last)
      this.#handler.onComplete([])
      return
    }
    this.#handler.onError(error)
  }

  onUpgrade (statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.#handler.onUpgrade?.(statusCode, headers, socket)
  }

  onBodySent (chunkSize: number, totalBytesSent: number): void {
    this.#handler.onBodySent?.(chunkSize, totalBytesSent)
  }
}
