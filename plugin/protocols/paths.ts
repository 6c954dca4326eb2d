/** Upstream paths: the OpenAI route of each Api, the provider query, the check that a protocol serves a route. */
import { RouteNotServed } from '../errors.js'
import type { Api, Protocol } from './types.js'

/** Each API's path under `/v1`, for clients and for OpenAI-protocol upstreams alike. */
export const ROUTES: Readonly<Record<Api, string>> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
  moderations: '/moderations',
  images: '/images/generations',
  speech: '/audio/speech',
  messages: '/messages',
  count_tokens: '/messages/count_tokens'
}

export function assertServes (protocol: Pick<Protocol, 'serves'>, api: Api, name: string): void {
  if (!protocol.serves(api)) throw RouteNotServed(`/v1${ROUTES[api]}`, name)
}

/** `?query` when there is one. */
export function withQuery (path: string, query: string): string {
  return query === '' ? path : `${path}?${query}`
}
