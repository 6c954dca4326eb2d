/**
 * The request headers that go upstream. An allow-list, not a deny-list: the
 * client's Authorization, cookies, proxy and forwarding headers never reach
 * a provider; the provider's own credentials (in its protocol's way:
 * `Authorization: Bearer`, Gemini's `x-goog-api-key`, Anthropic's version)
 * and configured headers are added.
 */
import type { IncomingHttpHeaders } from 'node:http'
import { kAttempt } from '../symbols.js'
import type { AttemptControl } from './attempt-control.js'

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

/** `providerHeaders`: the provider's credentials and configured headers (snapshot.ts's ProviderLink). */
export function upstreamRequestHeaders (
  incoming: IncomingHttpHeaders,
  providerHeaders: Readonly<Record<string, string>>,
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
  for (const name in providerHeaders) out[name] = providerHeaders[name]
  return out
}

/** Headers that describe the upstream's own body bytes. */
const CONVERTED_BODY_HEADERS = new Set(['content-length', 'content-encoding', 'content-md5', 'etag'])

/** Upstream response headers that must not reach the client. */
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding'])

/** `converted`: berry rewrites the body (another protocol's answer), so the upstream's length and encoding no longer hold. */
export function clientResponseHeaders (headers: IncomingHttpHeaders, provider: string, attempts: number, converted: boolean): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const name in headers) {
    // berry's own CORS policy (the `cors` option) decides what a browser may read, not the provider's.
    if (DROPPED_RESPONSE_HEADERS.has(name) || name.startsWith('access-control-') || (converted && CONVERTED_BODY_HEADERS.has(name))) continue
    out[name] = headers[name]
  }
  out['x-berry-backend'] = provider
  out['x-berry-attempts'] = String(attempts)
  return out
}
