/**
 * berry: turns a Fastify service into an OpenAI-compatible LLM gateway.
 * This file only wires the pieces together; each lives in its own file.
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { registerAccounting, type RequestTally } from './accounting/request-accounting.js'
import { UsageLedger, type UsageTotals } from './accounting/usage-ledger.js'
import { authenticateRequest, authenticationHook } from './auth.js'
import { loadConfig } from './config/load.js'
import type { ConfigSource } from './config/source.js'
import type { BerryConfig, SmartAiSettings } from './config/types.js'
import { berryErrorHandler, berryNotFoundHandler } from './error-handler.js'
import { closeGracefully, type OpenRequest } from './drain.js'
import { InvalidOptions } from './errors.js'
import { startHealthChecks } from './health/checks.js'
import { HealthTracker } from './health/tracker.js'
import { redactBerryLogs } from './log-redact.js'
import { createMetrics, NO_METRICS, type BerryMetrics } from './metrics.js'
import { resolveOptions, type BerryOptions } from './options.js'
import { watchClientDisconnects } from './proxy/client-disconnect.js'
import { combineEvents } from './proxy/handoff-events.js'
import { registerHandoff } from './proxy/handoff.js'
import { createPreHandler } from './proxy/prehandler.js'
import type { RouteState } from './proxy/route-state.js'
import { openRedis, registerRateLimit } from './rate-limit.js'
import { registerAdminRoutes } from './routes/admin.js'
import { healthSummary, registerHealthRoute } from './routes/health.js'
import { registerMetricsRoute } from './routes/metrics.js'
import { registerModelRoutes } from './routes/models.js'
import { registerSmartAiRoutes } from './routes/smart-ai.js'
import { Runtime, type ConfigChange } from './runtime.js'
import { kOpen, kRoute, kTally, kUser } from './symbols.js'
import type { BerryUser } from './user.js'

export interface BerryDecorator {
  /** The config in force (frozen). */
  readonly config: BerryConfig
  /** Validates and swaps in a new config; throws (keeping the old one) when invalid. */
  reload (source: ConfigSource): ConfigChange
  /** What GET /health answers. */
  health (): ReturnType<typeof healthSummary>
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

  // smart_ai's settings are read on every update, so a reload applies at once.
  const health = new HealthTracker((): SmartAiSettings => runtime.snapshot.config.settings.smartAi)
  // The metrics read the snapshot in force at scrape time, never before the runtime exists.
  const metrics = options.metrics === false
    ? undefined
    : createMetrics({ registry: options.metrics.registry, health, snapshot: () => runtime.snapshot, upstream: () => runtime.upstream })
  const counted: BerryMetrics = metrics ?? NO_METRICS
  const runtime: Runtime = new Runtime(config, { health, series: counted, random: options.random, now: options.now, env: options.env })
  const startedAt = Math.floor(options.now() / 1000)
  const ledger = new UsageLedger()
  const redisSource = options.redis ?? config.settings.redisUrl
  const redis = typeof redisSource === 'string' ? await openRedis(redisSource, app.log) : redisSource
  app.decorate('berry', {
    get config () { return runtime.snapshot.config },
    reload: (source: ConfigSource) => runtime.reload(source),
    health: () => healthSummary(runtime),
    usage: () => ledger.totals()
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
    // A client berry opened is berry's to close; one passed in is the host's.
    if (typeof redisSource === 'string') redis?.disconnect()
    await runtime.close()
  })

  const identify = (request: FastifyRequest) => authenticateRequest(request, runtime.snapshot.tokens, options.authenticate)
  const authenticate = authenticationHook(() => runtime.snapshot.tokens, options.authenticate)

  await app.register(async (scope) => {
    scope.setErrorHandler(berryErrorHandler)
    redactBerryLogs(scope)
    registerHealthRoute(scope, runtime)
    if (options.metrics !== false && metrics !== undefined) {
      registerMetricsRoute(scope, { path: options.metrics.path, public: options.metrics.public, registry: metrics.registry, authenticate: identify })
    }

    await scope.register(async (authed) => {
      authed.addHook('onRequest', authenticate)
      await registerRateLimit(authed, runtime, redis)
      registerModelRoutes(authed, runtime, startedAt)
      registerAdminRoutes(authed, runtime)
      registerSmartAiRoutes(authed, runtime)

      await authed.register(async (v1) => {
        v1.setNotFoundHandler(berryNotFoundHandler)
        // The body limit is berry's setting, not the host's: long prompts
        // outgrow Fastify's 1 MiB default.
        // JSON only: Fastify's text/plain parser would hand the preHandler a
        // string; a 415 says plainly what is wrong.
        v1.removeContentTypeParser('text/plain')
        v1.removeContentTypeParser('application/json')
        v1.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: config.settings.bodyLimit }, v1.getDefaultJsonParser('error', 'error'))
        const events = combineEvents([registerAccounting(v1, { runtime, metrics: counted, ledger, onUsage: options.onUsage }), runtime.drain.events])
        watchClientDisconnects(v1, events)
        await registerHandoff(v1, runtime, { preHandler: createPreHandler(runtime, `${options.prefix}/v1`), events })
      }, { prefix: '/v1' })
    })
  }, { prefix: options.prefix })
}

const plugin = fp(berry, { fastify: '5.x', name: 'fastify-berry' })
export default plugin
export { plugin as berry }
export { loadConfig } from './config/load.js'
export { BerryError } from './errors.js'
export type { BerryOptions, MetricsOptions } from './options.js'
export type { UsageRecord, UsageTotals } from './accounting/usage-ledger.js'
export type { Authenticate } from './auth.js'
export type { BerryUser } from './user.js'
export type { ConfigSource } from './config/source.js'
export type { BerryConfig, Provider, Model, Backend, User, Settings } from './config/types.js'
export type { ConfigChange } from './runtime.js'
