/**
 * The request headers that go upstream. An allow-list, not a deny-list: the
 * client's Authorization, cookies, proxy and forwarding headers never reach
 * a provider; the provider's own credentials and headers are added.
 */
import type { Provider } from '../config/types.js'
import { kAttempt, type AttemptControl } from './dispatcher.js'

/** Client headers worth passing on; everything else is dropped. */
export const FORWARDED_REQUEST_HEADERS: readonly string[] = [
  'accept',
  'accept-language',
  'user-agent',
  'openai-beta',
  'idempotency-key'
]

export function upstreamRequestHeaders (
  incoming: Record<string, string | string[] | undefined>,
  provider: Provider,
  requestId: string,
  control: AttemptControl
): Record<string | symbol, unknown> {
  const out: Record<string | symbol, unknown> = {
    host: incoming.host,
    'content-type': incoming['content-type'],
    'content-length': incoming['content-length'],
    'x-request-id': requestId
  }
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string') out[name] = value
  }
  for (const name in provider.headers) out[name] = provider.headers[name]
  if (provider.apiKey !== '') out.authorization = `Bearer ${provider.apiKey}`
  out[kAttempt] = control
  return out
}

/** Upstream response headers that must not reach the client. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding'])

export function clientResponseHeaders (headers: Record<string, unknown>, provider: string, attempts: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const name in headers) {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) out[name] = headers[name]
  }
  out['x-berry-backend'] = provider
  out['x-berry-attempts'] = String(attempts)
  return out
}
