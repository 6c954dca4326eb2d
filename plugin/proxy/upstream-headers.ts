/**
 * The request headers that go upstream. An allow-list, not a deny-list: the
 * client's Authorization, cookies, proxy and forwarding headers never reach
 * a provider; the provider's own credentials and headers are added.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { Provider } from '../config/types.js'
import { kAttempt } from '../symbols.js'
import type { AttemptControl } from './dispatcher.js'

/** Client headers worth passing on; everything else is dropped. */
export const FORWARDED_REQUEST_HEADERS: readonly string[] = [
  'accept',
  'accept-language',
  'user-agent',
  'openai-beta',
  'idempotency-key'
]

/** The upstream request's headers, with the attempt's control under a Symbol key (never serialised). */
export interface AttemptHeaders extends IncomingHttpHeaders {
  [kAttempt]: AttemptControl
}

export function upstreamRequestHeaders (
  incoming: IncomingHttpHeaders,
  provider: Provider,
  requestId: string,
  control: AttemptControl
): AttemptHeaders {
  const out: AttemptHeaders = {
    host: incoming.host,
    'content-type': incoming['content-type'],
    'content-length': incoming['content-length'],
    'x-request-id': requestId,
    [kAttempt]: control
  }
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = incoming[name]
    if (typeof value === 'string') out[name] = value
  }
  for (const name in provider.headers) out[name] = provider.headers[name]
  if (provider.apiKey !== '') out.authorization = `Bearer ${provider.apiKey}`
  return out
}

/** Upstream response headers that must not reach the client. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding'])

export function clientResponseHeaders (headers: IncomingHttpHeaders, provider: string, attempts: number): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) {
    if (!DROPPED_RESPONSE_HEADERS.has(name)) out[name] = headers[name]
  }
  out['x-berry-backend'] = provider
  out['x-berry-attempts'] = String(attempts)
  return out
}
