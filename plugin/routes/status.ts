/**
 * The status page (`GET /status` and its files, public: they hold no data)
 * and its data (`GET /admin/status`, users with the `admin` tag). Both log
 * at warn only: an open page polls every 2 seconds.
 */
import type { FastifyInstance } from 'fastify'
import { berryNotFoundHandler } from '../error-handler.js'
import { requireAdmin } from '../auth.js'
import type { Runtime } from '../runtime.js'
import type { RateLimitReader } from '../rate-limit.js'
import { PAGE_HEADERS, statusPageHtml } from '../status/page-html.js'
import { STATUS_PAGE_CSS, STATUS_PAGE_ICON } from '../status/page-css.js'
import { loadPageScripts, pageFile, type PageFile } from '../status/page-scripts.js'
import { statusView } from '../status/status-view.js'
import type { TrafficStore } from '../status/traffic-store.js'

export interface StatusPageOptions {
  /** The page's path within berry's scope (`/status`). */
  readonly path: string
  /** berry's prefix, for the absolute URLs the page's HTML names. */
  readonly prefix: string
}

interface Asset extends PageFile {
  readonly type: string
}

export async function registerStatusPage (scope: FastifyInstance, options: StatusPageOptions): Promise<void> {
  const assets = new Map<string, Asset>()
  for (const script of (await loadPageScripts()).values()) assets.set(script.name, { ...script, type: 'text/javascript; charset=utf-8' })
  for (const [name, body, type] of [['status.css', STATUS_PAGE_CSS, 'text/css; charset=utf-8'], ['icon.svg', STATUS_PAGE_ICON, 'image/svg+xml']] as const) {
    assets.set(name, { ...pageFile(name, body), type })
  }
  const html = statusPageHtml({ assets: `${options.prefix}${options.path}/assets`, api: `${options.prefix}/admin/status` })

  scope.get(options.path, { logLevel: 'warn' }, async (_request, reply) => {
    reply.headers(PAGE_HEADERS).type('text/html; charset=utf-8')
    return html
  })
  scope.get<{ Params: { file: string } }>(`${options.path}/assets/:file`, { logLevel: 'warn' }, async (request, reply) => {
    const asset = assets.get(request.params.file)
    if (asset === undefined) {
      berryNotFoundHandler(request, reply)
      return reply
    }
    reply.headers({ 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache', etag: asset.etag }).type(asset.type)
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send()
    return asset.body
  })
}

export interface StatusApiSources {
  readonly runtime: Runtime
  readonly traffic: TrafficStore
  readonly rateLimits: RateLimitReader
}

/** In the authenticated scope. */
export function registerStatusApi (scope: FastifyInstance, sources: StatusApiSources): void {
  const { runtime, traffic, rateLimits } = sources
  scope.get('/admin/status', { logLevel: 'warn' }, async (request, reply) => {
    requireAdmin(request)
    const headroom = await rateLimits.headroom(request)
    const now = runtime.now()
    traffic.prune(now)
    reply.header('cache-control', 'no-store')
    return statusView({ config: runtime.snapshot.config, health: runtime.health, traffic, headroom: (id) => headroom.get(id) ?? [], now })
  })
}
