/**
 * One attempt's upstream request, in the backend's own protocol: the
 * client's OpenAI body converted (Anthropic Messages, Gemini), the path and
 * query to send it to, and how berry speaks to the provider.
 *
 * A backend whose protocol cannot carry a request faithfully (a parameter
 * with no equivalent) throws the protocol's 400. For a load-balanced request
 * that backend is passed over for another of the model's (the request is
 * valid, just not for every backend); only when none can carry it does the
 * client get the 400. A pinned request gets it at once.
 */
import type { Backend } from '../config/types.js'
import { BerryError } from '../errors.js'
import type { Api, UpstreamRequest } from '../protocols/types.js'
import type { Selection } from '../select/dispatch.js'
import { linkOf, type ProviderLink, type Snapshot } from '../snapshot.js'

export interface Attempt {
  readonly backend: Backend
  readonly link: ProviderLink
  readonly method: 'GET' | 'POST' | 'DELETE'
  /** The request in the backend's protocol; `body` undefined: none is sent. */
  readonly upstream: { readonly path: string, readonly body: object | undefined, readonly stream: boolean }
  /** The upstream path without its query. */
  readonly path: string
  /** The upstream query without `?`, or ''. */
  readonly query: string
}

function splitQuery (path: string): { path: string, query: string } {
  const at = path.indexOf('?')
  return at < 0 ? { path, query: '' } : { path: path.slice(0, at), query: path.slice(at + 1) }
}

/** The attempt for `backend`, or the protocol's error when the body cannot go to it. */
export function prepareAttempt (snapshot: Snapshot, api: Api, body: Record<string, unknown>, backend: Backend): Attempt {
  const link = linkOf(snapshot, backend.provider)
  const { provider } = backend
  const upstream: UpstreamRequest = link.protocol.request(api, body, { model: backend.model, basePath: provider.basePath, query: provider.query, defaultMaxTokens: provider.defaultMaxTokens })
  const { path, query } = splitQuery(upstream.path)
  return { backend, link, method: 'POST', upstream, path, query }
}

/** A stored response's own route on the backend that created it (OpenAI's `/responses/{id}[/cancel|/input_items]`). */
export function storedResponseAttempt (snapshot: Snapshot, backend: Backend, id: string, suffix: string, method: Attempt['method']): Attempt {
  const { provider } = backend
  const path = `${provider.basePath}/responses/${encodeURIComponent(id)}${suffix}`
  return { backend, link: linkOf(snapshot, provider), method, upstream: { path, body: undefined, stream: false }, path, query: provider.query }
}

/** A request a backend's protocol refused (as opposed to berry failing). */
function isRefusal (error: unknown): error is BerryError {
  return error instanceof BerryError && error.statusCode === 400
}

export interface ChosenAttempt {
  readonly attempt: Attempt
  readonly lastResort: boolean
}

/**
 * Draws backends with `select` (which leaves out those in `passedOver`)
 * until one can carry the body; those that cannot are added to
 * `passedOver`. Undefined when no backend is left to draw, with `refusal`
 * set when some backend refused the body.
 */
export function chooseAttempt (
  select: (passedOver: ReadonlySet<string>) => Selection | undefined,
  prepare: (backend: Backend) => Attempt,
  passedOver: Set<string>
): ChosenAttempt | { readonly refusal: BerryError | undefined } {
  let refusal: BerryError | undefined
  for (let selection = select(passedOver); selection !== undefined; selection = select(passedOver)) {
    try {
      return { attempt: prepare(selection.backend), lastResort: selection.lastResort }
    } catch (error) {
      if (!isRefusal(error)) throw error
      refusal ??= error
      passedOver.add(selection.backend.key)
    }
  }
  return { refusal }
}
