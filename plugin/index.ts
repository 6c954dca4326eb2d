/**
 * berry: turns a Fastify service into an OpenAI-compatible LLM gateway.
 * This file only wires the pieces together; each lives in its own file.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { registerAccounting, type RequestTally } from './accounting/request-accounting.js'
import { ACCEPTS_API_KEY, authenticateRequest, authenticationHook } from './auth.js'
import { openCluster } from './cluster/cluster.js'
import { registerQuota } from './cluster/quota-hook.js'
import type { UsageQuery, UsageTotals } from './cluster/usage-store.js'
import { loadConfig } from './config/load.js'
import type { ConfigSource } from './config/source.js'
import type { BerryConfig, SmartAiSettings } from './config/types.js'
import { registerCors } from './cors.js'
import { closeGracefully, type OpenRequest } from './drain.js'
import { anthropicErrorHandler, berryErrorHandler, berryNotFoundHandler } from './error-handler.js'
import { InvalidOptions } from './errors.js'
import { startHealthChecks } from './health/checks.js'
import { HealthTracker } from './health/tracker.js'
import { redactBerryLogs } from './log-redact.js'
import { createMetrics, NO_METRICS, type BerryMetrics } from './metrics.js'
import { resolveOptions, type BerryOptions } from './options.js'
import { watchClientDisconnects } from './proxy/client-disconnect.js'
import { combineEvents } from './proxy/handoff-events.js'
import { ANTHROPIC_ROUTES, OPENAI_ROUTES, registerHandoff } from './proxy/handoff.js'
import { createStoredResponsePreHandler, STORED_RESPONSE_ROUTES } from './proxy/stored-response.js'
import { createPreHandler } from './proxy/prehandler.js'
import type { RouteState } from './proxy/route-state.js'
import { registerRateLimit } from './rate-limit.js'
import { RedisResponseStore } from './responses/redis-response-store.js'
import { MemoryResponseStore, type ResponseStore } from './responses/response-store.js'
import { registerAdminRoutes } from './routes/admin.js'
import { gatewayHealth, registerAdminHealthRoute, registerHealthRoutes } from './routes/health.js'
import { registerMetricsRoute } from './routes/metrics.js'
import { registerModelRoutes } from './routes/models.js'
import { registerSmartAiRoutes } from './routes/smart-ai.js'
import { registerStatusApi, registerStatusPage } from './routes/status.js'
import { registerUsageRoute } from './routes/usage.js'
import { Runtime, type ConfigChange } from './runtime.js'
import type { HealthSummary } from './status/health-views.js'
import { TrafficStore } from './status/traffic-store.js'
import { kOpen, kRoute, kTally, kUser } from './symbols.js'
import type { BerryUser } from './user.js'

export interface BerryDecorator {
  /** The config in force (frozen). */
  readonly config: BerryConfig
  /** Validates and swaps in a new config; throws (keeping the old one) when invalid. */
  reload (source: ConfigSource): ConfigChange
  /** What GET /health answers. */
  health (): HealthSummary
  /**
   * Request and token totals per UTC day, user, model and backend: of every
   * instance and kept across restarts with Redis, else of this process.
   */
  usage (query?: UsageQuery): Promise<UsageTotals[]>
}

declare module 'fastify' {
  interface FastifyInstance {
    berry: BerryDecorator
  }
  interface FastifyRequest {
    [kUser]: BerryUser | null
    [kRoute]: RouteState | null
    [kTally]: RequestTally | null
    [kOpen]: OpenRequest | null
  }
}

async function berry (app: FastifyInstance, opts: BerryOptions): Promise<void> {
  const options = resolveOptions(opts)
  const config = loadConfig(options.config, options.env === undefined ? {} : { env: options.env })
  if (config.users.length === 0 && options.authenticate === undefined) {
    throw InvalidOptions('the config has no [users] and no authenticate hook was given: berry is never open to anyone by accident')
  }
  for (const warning of config.warnings) app.log.warn(warning)

  const redisSource = options.redis ?? config.settings.redisUrl
  // smart_ai's settings are read on every update, so a reload applies at once.
  const health = new HealthTracker((): SmartAiSettings => runtime.snapshot.config.settings.smartAi)
  // The metrics read the snapshot in force at scrape time, never before the runtime exists.
  const metrics = options.metrics === false
    ? undefined
    : createMetrics({ registry: options.metrics.registry, health, snapshot: () => runtime.snapshot, upstream: () => runtime.upstream, redisUp: redisSource === undefined ? undefined : () => cluster.link?.up === true })
  const counted: BerryMetrics = metrics ?? NO_METRICS
  const runtime: Runtime = new Runtime(config, { health, series: counted, random: options.random, now: options.now, env: options.env })
  const startedAtMs = options.now()
  const startedAt = Math.floor(startedAtMs / 1000)
  const traffic = options.status === false ? undefined : new TrafficStore({ startedAt: startedAtMs })
  const cluster = await openCluster(redisSource, runtime, app.log)
  // Which backend holds each stored Responses API response; shared through Redis when there is one.
  const ownResponses = new MemoryResponseStore({ ttlMs: config.settings.storedResponseTtlMs, now: options.now })
  const responses: ResponseStore = cluster.link === undefined ? ownResponses : new RedisResponseStore(cluster.link.commands, ownResponses, config.settings.storedResponseTtlMs)
  app.decorate('berry', {
    get config () { return runtime.snapshot.config },
    reload: (source: ConfigSource) => runtime.reload(source),
    health: () => gatewayHealth(runtime),
    usage: (query?: UsageQuery) => cluster.usage.totals(query)
  } satisfies BerryDecorator)
  app.decorateRequest(kUser, null)
  app.decorateRequest(kRoute, null)
  app.decorateRequest(kOpen, null)
  // Draining comes first: requests in flight finish before Fastify stops
  // listening and before anything they use is closed (drain.ts).
  app.addHook('preClose', async () => {
    await closeGracefully(runtime.drain, runtime.snapshot.config.settings.shutdownGraceMs, app.log)
  })
  const stopChecks = startHealthChecks({ current: () => runtime.snapshot.config, health, dispatcher: runtime.upstream.dispatcher, now: options.now })
  app.addHook('onClose', async () => {
    stopChecks()
    metrics?.close()
    // Only berry's own connections: a client passed in is the host's.
    await cluster.close()
    await runtime.close()
  })

  const identify = (request: FastifyRequest) => authenticateRequest(request, runtime.snapshot.tokens, options.authenticate)
  const authenticate = authenticationHook(() => runtime.snapshot.tokens, options.authenticate)

  await app.register(async (scope) => {
    scope.setErrorHandler(berryErrorHandler)
    redactBerryLogs(scope)
    // First, so that its hook answers preflights before authentication asks for a token.
    if (options.cors !== false) await registerCors(scope, options.cors)
    registerHealthRoutes(scope, runtime, startedAtMs)
    if (options.status !== false) await registerStatusPage(scope, { path: options.status.path, prefix: options.prefix })
    if (options.metrics !== false && metrics !== undefined) {
      registerMetricsRoute(scope, { path: options.metrics.path, public: options.metrics.public, registry: metrics.registry, authenticate: identify })
    }

    await scope.register(async (authed) => {
      authed.addHook('onRequest', authenticate)
      const rateLimits = await registerRateLimit(authed, runtime, cluster.link)
      registerModelRoutes(authed, runtime, startedAt)
      registerAdminRoutes(authed, runtime)
      registerAdminHealthRoute(authed, runtime)
      registerSmartAiRoutes(authed, runtime)
      registerUsageRoute(authed, cluster.usage)
      if (traffic !== undefined) registerStatusApi(authed, { runtime, traffic, rateLimits })

      await authed.register(async (v1) => {
        v1.setNotFoundHandler(berryNotFoundHandler)
        // The body limit is berry's setting, not the host's: long prompts
        // outgrow Fastify's 1 MiB default.
        // JSON only: Fastify's text/plain parser would hand the preHandler a
        // string; a 415 says plainly what is wrong.
        v1.removeContentTypeParser('text/plain')
        v1.removeContentTypeParser('application/json')
        v1.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.settings.bodyLimit }, v1.getDefaultJsonParser('error', 'error'))
        const events = combineEvents([registerAccounting(v1, { runtime, metrics: counted, usage: cluster.usage, onUsage: options.onUsage, traffic }), runtime.drain.events])
        watchClientDisconnects(v1, events)
        registerQuota(v1, runtime, cluster.usage)
        // Three handoffs, each in a scope of its own (http-proxy's reply-from
        // decorates once per scope): OpenAI's routes; Anthropic's, whose
        // errors take Anthropic's shape; and stored responses' routes, which
        // go where the response was made.
        const v1Prefix = `${options.prefix}/v1`
        await v1.register(async (openai) => {
          await registerHandoff(openai, runtime, { routes: OPENAI_ROUTES, methods: ['POST'], dialect: 'openai', preHandler: createPreHandler(runtime, v1Prefix, responses), events, responses })
        })
        await v1.register(async (anthropic) => {
          anthropic.setErrorHandler(anthropicErrorHandler)
          await registerHandoff(anthropic, runtime, { routes: ANTHROPIC_ROUTES, methods: ['POST'], dialect: 'anthropic', preHandler: createPreHandler(runtime, v1Prefix, responses), events, responses, config: { [ACCEPTS_API_KEY]: true } })
        })
        await v1.register(async (stored) => {
          await registerHandoff(stored, runtime, { routes: Object.keys(STORED_RESPONSE_ROUTES), methods: ['GET', 'POST', 'DELETE'], dialect: 'openai', preHandler: createStoredResponsePreHandler(runtime, v1Prefix, responses), events, responses })
        })
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
export type { UsageRecord } from './accounting/usage-ledger.js'
export type { UsageQuery, UsageTotals } from './cluster/usage-store.js'
export type { Authenticate } from './auth.js'
export type { BerryUser } from './user.js'
export type { ConfigSource } from './config/source.js'
export type { BerryConfig, Provider, Model, Backend, User, Settings } from './config/types.js'
export type { ConfigChange } from './runtime.js'
