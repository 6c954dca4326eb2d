/**
 * The requests berry sends on its own to check a backend, and one function
 * that sends them. Each speaks the provider's own protocol (its model list,
 * a 1-token request in its own shape, its own credentials); a builder can be
 * passed in instead (tests).
 */
import type { Dispatcher } from 'undici'
import type { Backend, Provider } from '../config/types.js'
import { classifyError } from '../proxy/outcome.js'
import { protocolOf } from '../protocols/registry.js'
import { providerHeaders } from '../snapshot.js'

export interface CheckRequest {
  readonly method: 'GET' | 'POST'
  /** Path and query, as sent to the provider's origin. */
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly body?: string
}

/** The free check of a provider (its model list). */
export type ModelsRequestBuilder = (provider: Provider) => CheckRequest
/** The minimal request that proves a backend answers: a 1-token completion with its upstream model. */
export type RecoveryRequestBuilder = (backend: Backend) => CheckRequest

/** The provider's model list: free, and it proves the key and the route work. */
export const modelsRequest: ModelsRequestBuilder = (provider) => ({
  method: 'GET',
  path: protocolOf(provider.backendType).modelsPath(provider.basePath, provider.query),
  headers: providerHeaders(provider)
})

/** One token of the backend's own model, in its provider's protocol. */
export const recoveryRequest: RecoveryRequestBuilder = (backend) => {
  const { provider } = backend
  const upstream = protocolOf(provider.backendType).request('chat', { model: backend.model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, stream: false }, {
    model: backend.model,
    basePath: provider.basePath,
    query: provider.query,
    defaultMaxTokens: provider.defaultMaxTokens
  })
  return {
    method: 'POST',
    path: upstream.path,
    headers: { ...providerHeaders(provider), 'content-type': 'application/json' },
    body: JSON.stringify(upstream.body)
  }
}

export interface CheckResult {
  /** A 2xx answer. */
  readonly ok: boolean
  readonly status: number | undefined
  readonly timeout: boolean
  readonly latencyMs: number
  /** `HTTP 500`, `connection refused`, `timeout`: never an address or a key. */
  readonly result: string
}

export async function sendCheck (dispatcher: Dispatcher, origin: string, request: CheckRequest, timeoutMs: number): Promise<CheckResult> {
  const started = performance.now()
  try {
    const res = await dispatcher.request({
      origin,
      path: request.path,
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs
    })
    await res.body.dump()
    const ok = res.statusCode >= 200 && res.statusCode < 300
    return { ok, status: res.statusCode, timeout: false, latencyMs: performance.now() - started, result: `HTTP ${res.statusCode}` }
  } catch (err) {
    const { timeout, reason } = classifyError(err)
    return { ok: false, status: undefined, timeout, latencyMs: performance.now() - started, result: reason }
  }
}
