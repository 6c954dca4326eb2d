/**
 * What to check: (model, backend) pairs. berry lists them in its weight
 * view, `GET /smart-ai/weights`, as the original system's Python checker
 * read them; a berry without that route lists them at `GET /admin/backends`.
 * Both need a token with the `admin` tag. With another token only
 * `/v1/models` is open: the backends must then be named, and each is tried
 * with every model (`exact: false`), the pairs berry does not serve being
 * dropped from the results afterwards (see `settle`).
 */
import { getJson, errorOf, type Connection } from './client.js'
import type { ProbeResult, Target } from './probe.js'

export interface Discovery {
  readonly targets: readonly Target[]
  /** False when the pairs are guesses (every model times every named backend). */
  readonly exact: boolean
  /** Said on stderr (and in --json output). */
  readonly notes: readonly string[]
}

/** A setup problem: berry-health stops with this exit status and message. */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError'
  constructor (message: string, readonly exitCode: 1 | 2) {
    super(message)
  }
}

interface AdminBackend { provider: string, enabled: boolean }
interface AdminModel { model: string, key: string, enabled: boolean, backends: AdminBackend[] }

function isAdminList (body: unknown): body is { models: AdminModel[] } {
  const models = (body as { models?: unknown } | undefined)?.models
  return Array.isArray(models) && models.every((m) => typeof m?.model === 'string' && Array.isArray(m.backends))
}

interface WeightsModel { name: string, enabled?: boolean, backends: Array<{ provider: string, enabled?: boolean }> }
interface WeightsView { models: WeightsModel[], available_models?: Array<{ key?: unknown, name?: unknown }> }

const WEIGHTS_PATH = '/smart-ai/weights?enabled_only=false'

function isWeightsView (body: unknown): body is WeightsView {
  const models = (body as { models?: unknown } | undefined)?.models
  return Array.isArray(models) && models.every((m) => typeof m?.name === 'string' && Array.isArray(m.backends) &&
    m.backends.every((b: unknown) => typeof (b as { provider?: unknown } | null)?.provider === 'string'))
}

/** The weight view as the admin list: keys come from `available_models` (the original's view has them there). */
function fromWeightsView (view: WeightsView): AdminModel[] {
  return view.models.map((model) => {
    const entry = view.available_models?.find((m) => m.name === model.name)
    return {
      model: model.name,
      key: typeof entry?.key === 'string' ? entry.key : model.name,
      enabled: model.enabled !== false,
      backends: model.backends.map((b) => ({ provider: b.provider, enabled: b.enabled !== false }))
    }
  })
}

/** As berry finds a model: by name, by table key, or by the key the name maps to. */
function names (entry: AdminModel, requested: string): boolean {
  return requested === entry.model || requested === entry.key || requested.replace(/[^A-Za-z0-9]+/g, '_') === entry.key
}

function why (status: number, body: unknown): string {
  const { message } = errorOf(body)
  return message === undefined ? `HTTP ${status}` : `${status}: ${message}`
}

function fromAdminList (list: AdminModel[], models: readonly string[], backends: readonly string[]): Discovery {
  const notes: string[] = []
  for (const requested of models) {
    if (!list.some((entry) => names(entry, requested))) {
      throw new DiscoveryError(`model '${requested}' is not configured on berry (configured: ${list.map((e) => e.model).join(', ') || 'none'})`, 2)
    }
  }
  const chosen = models.length === 0 ? list : list.filter((entry) => models.some((m) => names(entry, m)))
  const targets: Target[] = []
  const skipped: string[] = []
  for (const entry of chosen) {
    for (const backend of entry.backends) {
      if (backends.length > 0) {
        // Named explicitly: checked even when disabled (berry will say so).
        if (backends.includes(backend.provider)) targets.push({ model: entry.model, backend: backend.provider })
      } else if (entry.enabled && backend.enabled) {
        targets.push({ model: entry.model, backend: backend.provider })
      } else {
        skipped.push(`${backend.provider} (${entry.model})`)
      }
    }
  }
  for (const backend of backends) {
    if (!targets.some((t) => t.backend === backend)) {
      const scope = models.length === 0 ? 'any model' : models.join(', ')
      throw new DiscoveryError(`backend '${backend}' is not configured for ${scope}`, 2)
    }
  }
  if (skipped.length > 0) notes.push(`skipped (disabled): ${skipped.join(', ')}`)
  if (targets.length === 0) throw new DiscoveryError('berry lists no enabled backend to check', 2)
  return { targets, exact: true, notes }
}

async function fromModelList (conn: Connection, models: readonly string[], backends: readonly string[], route: string, refusal: string): Promise<Discovery> {
  let names = [...models]
  if (names.length === 0) {
    const answer = await getJson(conn, '/v1/models')
    const data = (answer.body as { data?: Array<{ id?: unknown }> } | undefined)?.data
    if (answer.status !== 200 || !Array.isArray(data)) {
      throw new DiscoveryError(`GET /v1/models failed (${why(answer.status, answer.body)})`, answer.status === 401 ? 2 : 1)
    }
    names = data.map((m) => m.id).filter((id): id is string => typeof id === 'string')
  }
  if (backends.length === 0) {
    throw new DiscoveryError(
      `GET ${route} was refused (${refusal}), so the backends cannot be listed: ` +
      'name them with --backends a b ..., or use a token with the \'admin\' tag. ' +
      `Models open to this token: ${names.join(', ') || 'none'}`, 2)
  }
  if (names.length === 0) throw new DiscoveryError('this token may use no model', 2)
  const targets = names.flatMap((model) => backends.map((backend) => ({ model, backend })))
  const exact = models.length > 0
  const notes = [`GET ${route} was refused (${refusal}); checking the named backends` +
    (exact ? '' : ' with every model and leaving out the pairs berry does not serve')]
  return { targets, exact, notes }
}

/**
 * Listing is cheap for berry and must not fail because --timeout was set
 * tight for the backends' sake.
 */
export const DISCOVERY_TIMEOUT_MS = 10_000

async function listing (conn: Connection, path: string): Promise<Awaited<ReturnType<typeof getJson>>> {
  try {
    return await getJson(conn, path)
  } catch (err) {
    throw new DiscoveryError(`berry at ${conn.url} could not be reached: ${(err as Error).message}`, 1)
  }
}

export async function discover (backendConn: Connection, wanted: { models: readonly string[], backends: readonly string[] }): Promise<Discovery> {
  const conn = { ...backendConn, timeoutMs: Math.max(backendConn.timeoutMs, DISCOVERY_TIMEOUT_MS) }
  let route = '/smart-ai/weights'
  let answer = await listing(conn, WEIGHTS_PATH)
  if (answer.status === 200 && isWeightsView(answer.body)) return fromAdminList(fromWeightsView(answer.body), wanted.models, wanted.backends)
  // 404: a berry from before the weight view, or an app that leaves it out.
  if (answer.status === 404) {
    route = '/admin/backends'
    answer = await listing(conn, route)
    if (answer.status === 200 && isAdminList(answer.body)) return fromAdminList(answer.body.models, wanted.models, wanted.backends)
  }
  if (answer.status === 401) {
    throw new DiscoveryError(`berry refused the token (${why(answer.status, answer.body)}); give an API token with --token or BERRY_TOKEN`, 2)
  }
  // 403: not an admin; 404: no listing route at all.
  if (answer.status === 403 || answer.status === 404) {
    try {
      return await fromModelList(conn, wanted.models, wanted.backends, route, why(answer.status, answer.body))
    } catch (err) {
      if (err instanceof DiscoveryError) throw err
      throw new DiscoveryError(`berry at ${conn.url} could not be reached: ${(err as Error).message}`, 1)
    }
  }
  throw new DiscoveryError(`GET ${route} failed (${why(answer.status, answer.body)})`, 1)
}

/**
 * Drops the guessed pairs berry answered "not found or disabled" for, as
 * long as the backend answered for some other model: a backend that no
 * model serves (a typo) stays in the results as an error.
 */
export function settle (results: readonly ProbeResult[], exact: boolean): ProbeResult[] {
  if (exact) return [...results]
  const unserved = (r: ProbeResult): boolean => r.code === 'BERRY_ERR_BACKEND_UNAVAILABLE' && r.detail.includes('not found or disabled')
  return results.filter((r) => !unserved(r) || results.every((o) => o.backend !== r.backend || unserved(o)))
}
