/**
 * The undici dispatcher reply-from sends every upstream request through.
 *
 * - TLS certificates are verified (reply-from's own default does not), with a
 *   provider's `ca_file` trusted beside the system CAs.
 * - Connections per origin are a setting: each open stream holds one.
 * - Per attempt, berry's timeouts and an abort handle travel with the request
 *   under a Symbol key in its headers object. reply-from copies headers with
 *   Object.assign, which keeps Symbol keys, and its own `timeout` option would
 *   set the header and body timeouts to one value; the interceptor below takes
 *   the context off before undici serialises the headers.
 */
import { rootCertificates } from 'node:tls'
import { Agent, Pool, type Dispatcher } from 'undici'
import type { BerryConfig } from '../config/types.js'

export const kAttempt = Symbol('berry.attempt')

export interface AttemptControl {
  /** Longest wait for the response headers, connection included. */
  readonly headersTimeoutMs: number
  /** Longest silence between two body chunks (the stream idle timeout). */
  readonly bodyTimeoutMs: number
  /** Set once the request is under way: aborts it (client went away). */
  abort: ((reason: Error) => void) | undefined
}

type Handler = Dispatcher.DispatchHandler

/** Delegates everything, keeping the controller's abort for berry. */
function captureAbort (handler: Handler, control: AttemptControl): Handler {
  return {
    onRequestStart (controller, context) {
      control.abort = (reason) => controller.abort(reason)
      handler.onRequestStart?.(controller, context)
    },
    onRequestUpgrade (controller, statusCode, headers, socket) {
      handler.onRequestUpgrade?.(controller, statusCode, headers, socket)
    },
    onResponseStart (controller, statusCode, headers, statusMessage) {
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage)
    },
    onResponseData (controller, chunk) {
      handler.onResponseData?.(controller, chunk)
    },
    onResponseEnd (controller, trailers) {
      control.abort = undefined
      handler.onResponseEnd?.(controller, trailers)
    },
    onResponseError (controller, error) {
      control.abort = undefined
      handler.onResponseError?.(controller, error)
    }
  }
}

const attemptInterceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const headers = opts.headers as (Record<string | symbol, unknown> | undefined)
  const control = headers?.[kAttempt] as AttemptControl | undefined
  if (headers === undefined || control === undefined) return dispatch(opts, handler)
  const { [kAttempt]: _drop, ...wireHeaders } = headers
  return dispatch({
    ...opts,
    headers: wireHeaders as Record<string, string>,
    headersTimeout: control.headersTimeoutMs,
    bodyTimeout: control.bodyTimeoutMs
  }, captureAbort(handler, control))
}

export interface UpstreamDispatcher {
  readonly dispatcher: Dispatcher
  /** Points new connections at the CAs and timeouts of a (reloaded) config. */
  update (config: BerryConfig): void
  close (): Promise<void>
}

export function createDispatcher (config: BerryConfig): UpstreamDispatcher {
  let byOrigin = new Map<string, { ca: string | undefined, connectTimeoutMs: number }>()
  let connections = config.settings.connectionsPerOrigin

  const update = (next: BerryConfig): void => {
    const map = new Map<string, { ca: string | undefined, connectTimeoutMs: number }>()
    for (const provider of next.providers.values()) {
      const seen = map.get(provider.origin)
      map.set(provider.origin, {
        ca: seen?.ca ?? provider.ca,
        connectTimeoutMs: Math.max(seen?.connectTimeoutMs ?? 0, provider.timeoutMs)
      })
    }
    byOrigin = map
    connections = next.settings.connectionsPerOrigin
  }
  update(config)

  const agent = new Agent({
    factory (origin, opts) {
      const entry = byOrigin.get(String(origin))
      return new Pool(origin, {
        ...opts,
        connections,
        pipelining: 1,
        connect: {
          rejectUnauthorized: true,
          timeout: entry?.connectTimeoutMs ?? 10_000,
          ...(entry?.ca === undefined ? {} : { ca: [...rootCertificates, entry.ca] })
        }
      })
    }
  })

  return {
    dispatcher: agent.compose(attemptInterceptor),
    update,
    close: () => agent.close()
  }
}
