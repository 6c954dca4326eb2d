/**
 * The requests berry sends on its own to check a backend, and one function
 * that sends them. Which request a check is (path, credentials, body) is a
 * builder passed in, so a provider speaking another protocol only needs its
 * own builder; the OpenAI ones are the defaults.
 */
import type { Dispatcher } from 'undici'
import type { Backend, Provider } from '../config/types.js'
import { classifyError } from '../proxy/outcome.js'

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

function withQuery (path: string, provider: Provider): string {
  return provider.query === '' ? path : `${path}?${provider.query}`
}

function openAIHeaders (provider: Provider): Record<string, string> {
  const headers: Record<string, string> = { ...provider.headers }
  if (provider.apiKey !== '') headers.authorization = `Bearer ${provider.apiKey}`
  return headers
}

export const openAIModelsRequest: ModelsRequestBuilder = (provider) => ({
  method: 'GET',
  path: withQuery(`${provider.basePath}/models`, provider),
  headers: openAIHeaders(provider)
})

export const openAIRecoveryRequest: RecoveryRequestBuilder = (backend) => ({
  method: 'POST',
  path: withQuery(`${backend.provider.basePath}/chat/completions`, backend.provider),
  headers: { ...openAIHeaders(backend.provider), 'content-type': 'application/json' },
  body: JSON.stringify({ model: backend.model, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, stream: false })
})

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
