/**
 * What one upstream attempt carries to the dispatcher: berry's timeouts, the
 * abort and cut handles, the tap on the relayed body and the stream
 * converter. It travels in the attempt's headers object under `kAttempt`
 * (dispatcher.ts says why that is safe), and the attempt's handlers
 * (attempt-handler.ts, converting-handler.ts) fill in its handles.
 */
import type { Dispatcher } from 'undici'
import type { Usage } from '../accounting/usage-scanner.js'
import type { StreamConverter } from '../protocols/types.js'
import { kAttempt } from '../symbols.js'

/** Sees the body of the answer berry relays (not of failed attempts). */
export interface BodyTap {
  /** Each chunk as it passes; must not keep or alter it. */
  onChunk (chunk: Buffer): void
  /**
   * The body ended: cleanly (`error` undefined, also when berry's side
   * aborted it) or because the upstream failed mid-way. `usage` is what a
   * converted stream reported. May return a last chunk to end the body with
   * instead of the error (an SSE error event).
   */
  onEnd (error: Error | undefined, usage?: Usage): Buffer | undefined
}

/** What one attempt needs from the dispatcher; travels in its headers object under `kAttempt`. */
export class AttemptControl {
  /** Longest wait for the response headers, once the request is written. */
  readonly headersTimeoutMs: number
  /** Longest silence between two body chunks (the stream idle timeout). */
  readonly bodyTimeoutMs: number
  /** The provider id, for the count of requests waiting for a connection. */
  readonly provider: string
  /** Longest wait for a free upstream connection (connection-wait.ts). */
  readonly queueTimeoutMs: number
  /** Set once the request is dispatched: aborts it (client went away). */
  abort: ((reason: Error) => void) | undefined = undefined
  /**
   * Set once the request is dispatched: ends it as an upstream that broke
   * off would, so an SSE answer gets its error event (the gateway is
   * shutting down). `abort` is for a client that left, who hears nothing.
   */
  cut: ((reason: Error) => void) | undefined = undefined
  /** Set by the handoff when this attempt's answer goes to the client. */
  tap: BodyTap | undefined = undefined
  /**
   * For a streamed request: converts the answer's event stream (or only
   * watches it, for the OpenAI protocol) and says when its first token came.
   * Until then the response is held back, so an attempt that fails first
   * can still fail over (converting-handler.ts).
   */
  transform: StreamConverter | undefined = undefined
  /** performance.now() when the upstream's response headers arrived. */
  headersAt = 0

  constructor (headersTimeoutMs: number, bodyTimeoutMs: number, provider: string, queueTimeoutMs: number) {
    this.headersTimeoutMs = headersTimeoutMs
    this.bodyTimeoutMs = bodyTimeoutMs
    this.provider = provider
    this.queueTimeoutMs = queueTimeoutMs
  }
}

export type Handler = Dispatcher.DispatchHandler
export type Abort = (reason?: Error) => void

/**
 * The callback shape undici's own `request()` handler has (undici calls it
 * the legacy shape: onConnect/onHeaders/onData/onComplete/onError).
 */
export interface CallbackHandler extends Handler {
  onConnect (abort: Abort, context?: unknown): void
  onHeaders (statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean
  onData (chunk: Buffer): boolean
  onComplete (trailers: string[] | null): void
  onError (error: Error): void
}

export function isCallbackHandler (handler: Handler): handler is CallbackHandler {
  return typeof handler.onConnect === 'function' && typeof handler.onHeaders === 'function' &&
    typeof handler.onData === 'function' && typeof handler.onComplete === 'function' && typeof handler.onError === 'function'
}

/** The control an attempt's headers carry, if they carry one. */
export function attemptControlOf (headers: Dispatcher.DispatchOptions['headers']): AttemptControl | undefined {
  if (headers === null || typeof headers !== 'object') return undefined
  const control: unknown = Reflect.get(headers, kAttempt)
  return control instanceof AttemptControl ? control : undefined
}

/**
 * Hands the request's handler an abort for berry's side (the client left:
 * `aborted` marks it, so the ending is not read as the upstream's failure)
 * and keeps both ends of the attempt on its control: `abort` for a client
 * that left, `cut` for an upstream end (the gateway shutting down).
 */
export function connectAttempt (control: AttemptControl, handler: CallbackHandler, abort: Abort, context: unknown, aborted: () => void): void {
  const abortFromBerry: Abort = (reason) => {
    aborted()
    abort(reason)
  }
  control.abort = abortFromBerry
  control.cut = abort
  handler.onConnect(abortFromBerry, context)
}
