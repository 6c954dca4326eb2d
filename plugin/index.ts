/**
 * berry: turns a Fastify service into an OpenAI-compatible LLM gateway.
 * This file only wires the pieces together; each lives in its own file.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { authenticateRequest, authenticationHook } from './auth.js'
import { loadConfig } from './config/load.js'
import type { ConfigSource } from './config/source.js'
import type { BerryConfig } from './config/types.js'
import { registerCors } from './cors.js'
import { berryErrorHandler, berryNotFoundHandler } from './error-handler.js'
import { InvalidOptions } from './errors.js'
import { Gateway, type ConfigChange } from './gateway.js'
import { redactBerryLogs } from './log-redact.js'
import { createMetrics, NO_METRICS } from './metrics.js'
import { resolveOptions, type BerryOptions } from './options.js'
import { clientLeft, registerHandoff } from './proxy/handoff.js'
import { createPreHandler } from './proxy/prehandler.js'
import type { RouteState } from './proxy/route-state.js'
import { openRedis, registerRateLimit } from './rate-limit.js'
import { registerRequestLog } from './request-log.js'
import { registerAdminRoutes } from './routes/admin.js'
import { gatewayHealth, registerAdminHealthRoute, registerHealthRoutes } from './routes/health.js'
import { startProber } from './health/prober.js'
import { registerMetricsRoute } from './routes/metrics.js'
import { registerModelRoutes } from './routes/models.js'
import { registerStatusApi, registerStatusPage } from './routes/status.js'
import type { HealthSummary } from './status/health-views.js'
import { feedTraffic } from './status/interim-feed.js'
import { TrafficStore } from './status/traffic-store.js'
import { kAccounting, kRoute, kUser } from './symbols.js'
import { UsageLedger, type UsageTotals } from './usage/usage-ledger.js'
import type { BerryUser } from './user.js'

export interface BerryDecorator {
  /** The config in force (frozen). */
  readonly config: BerryConfig
  /** Validates and swaps in a new config; throws (keeping the old one) when invalid. */
  reload (source: ConfigSource): ConfigChange
  /** What GET /health answers. */
  health (): HealthSummary
  /** Token and request totals per user, model and backend since start. */
  usage (): UsageTotals[]
}

declare module 'fastify' {
  interface FastifyInstance {
    berry: BerryDecorator
  }
  interface FastifyRequest {
    [kUser]: BerryUser | null
    [kRoute]: RouteState | null
    [kAccounting]: number
  }
}

async function berry (app: FastifyInstance, opts: BerryOptions): Promise<void> {
  const options = resolveOptions(opts)
  const config = loadConfig(options.config, options.env === undefined ? {} : { env: options.env })
  if (config.users.length === 0 && options.authenticate === undefined) {
    throw InvalidOptions('the config has no [users] and no authenticate hook was given: berry is never open to anyone by accident')
  }
  for (const warning of config.warnings) app.log.warn(warning)

  const gateway = new Gateway(config, { random: options.random, now: options.now, ...(options.env === undefined ? {} : { env: options.env }) })
  const startedAtMs = options.now()
  const startedAt = Math.floor(startedAtMs / 1000)
  const traffic = options.status === false ? undefined : new TrafficStore({ startedAt: startedAtMs })
  const ledger = new UsageLedger()
  const metrics = options.metrics === false ? undefined : createMetrics(gateway, options.metrics.registry)
  const redisSource = options.redis ?? config.settings.redisUrl
  const redis = typeof redisSource === 'string' ? await openRedis(redisSource, app.log) : redisSource
  app.decorate('berry', {
    get config () { return gateway.current.config },
    reload: (source: ConfigSource) => gateway.reload(source),
    health: () => gatewayHealth(gateway),
    usage: () => ledger.totals()
  } satisfies BerryDecorator)
  app.decorateRequest(kUser, null)
  app.decorateRequest(kRoute, null)
  const stopProbes = config.settings.healthCheckIntervalMs > 0
    ? startProber(config.settings.healthCheckIntervalMs, { current: () => gateway.current.config, health: gateway.health, dispatcher: gateway.upstream.dispatcher, now: options.now })
    : undefined
  app.addHook('onClose', async () => {
    stopProbes?.()
    metrics?.close()
    // A client berry opened is berry's to close; one passed in is the host's.
    if (typeof redisSource === 'string') redis?.disconnect()
    await gateway.close()
  })

  const identify = (request: FastifyRequest) => authenticateRequest(request, gateway.current.tokens, options.authenticate)
  const authenticate = authenticationHook(() => gateway.current.tokens, options.authenticate)

  await app.register(async (scope) => {
    scope.setErrorHandler(berryErrorHandler)
    redactBerryLogs(scope)
    // First, so that its hook answers preflights before authentication asks for a token.
    if (options.cors !== false) await registerCors(scope, options.cors)
    registerHealthRoutes(scope, gateway, startedAtMs)
    if (options.status !== false) await registerStatusPage(scope, { path: options.status.path, prefix: options.prefix })
    if (metrics !== undefined && options.metrics !== false) {
      registerMetricsRoute(scope, { path: options.metrics.path, public: options.metrics.public, registry: metrics.registry, authenticate: identify })
    }

    await scope.register(async (authed) => {
      authed.addHook('onRequest', authenticate)
      const rateLimits = await registerRateLimit(authed, gateway, redis)
      registerModelRoutes(authed, gateway, startedAt)
      registerAdminRoutes(authed, gateway)
      registerAdminHealthRoute(authed, gateway)
      if (traffic !== undefined) registerStatusApi(authed, { gateway, traffic, rateLimits })

      await authed.register(async (v1) => {
        v1.setNotFoundHandler(berryNotFoundHandler)
        // The body limit is berry's setting, not the host's: long prompts
        // outgrow Fastify's 1 MiB default.
        // JSON only: Fastify's text/plain parser would hand the preHandler a
        // string; a 415 says plainly what is wrong.
        v1.removeContentTypeParser('text/plain')
        v1.removeContentTypeParser('application/json')
        v1.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.settings.bodyLimit }, v1.getDefaultJsonParser('error', 'error'))
        const hooks = registerRequestLog(v1, { gateway, metrics: feedTraffic(metrics ?? NO_METRICS, traffic, () => gateway.now()), ledger, onUsage: options.onUsage, onClientGone: clientLeft })
        await registerHandoff(v1, gateway, { preHandler: createPreHandler(gateway, `${options.prefix}/v1`), hooks })
      }, { prefix: '/v1' })
    })
  }, { prefix: options.prefix })
}

const plugin = fp(berry, { fastify: '5.x', name: 'fastify-berry' })
export default plugin
export { plugin as berry }
export { loadConfig } from './config/load.js'
export { BerryError } from './errors.js'
export type { BerryOptions, MetricsOptions, StatusOptions, CorsOptions } from './options.js'
export type { TrafficSample } from './status/traffic-store.js'
export type { StatusView } from './status/view-types.js'
export type { HealthSummary, SimpleHealth, DetailedHealth } from './status/health-views.js'
export type { UsageRecord, UsageTotals } from './usage/usage-ledger.js'
export type { Authenticate } from './auth.js'
export type { BerryUser } from './user.js'
export type { ConfigSource } from './config/source.js'
export type { BerryConfig, Provider, Model, Backend, User, Settings } from './config/types.js'
export type { ConfigChange } from './gateway.js'
