/**
 * Type tests of berry's public API, as a host gets it: imported by the
 * package's own name, so TypeScript resolves it through the `exports` map to
 * the built declarations in dist/ (what `npm pack` ships). `npm run build`
 * first; `npm run test:types` runs them (tstyche, with the installed
 * TypeScript). Nothing here runs: tstyche only type-checks.
 *
 * Records a host reads (UsageRecord, UsageTotals, ConfigChange, BerryUser,
 * HealthSummary) are pinned field by field with `toBe`: renaming, retyping,
 * removing or adding a field fails here, so a change to what hosts rely on
 * is always a deliberate one.
 */
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { describe, expect, test } from 'tstyche'
import berry, {
  berry as named,
  BerryError,
  loadConfig,
  type Authenticate,
  type Backend,
  type BerryConfig,
  type BerryDecorator,
  type BerryOptions,
  type BerryUser,
  type ConfigChange,
  type ConfigSource,
  type CorsOptions,
  type DetailedHealth,
  type HealthSummary,
  type MetricsOptions,
  type Model,
  type Provider,
  type Settings,
  type SimpleHealth,
  type StatusOptions,
  type StatusView,
  type TrafficSample,
  type UsageRecord,
  type UsageTotals,
  type User
} from 'fastify-berry'

const app = Fastify()
declare const redis: Redis
declare const someUser: User
const config = './berry.toml'

describe('the exports', () => {
  test('the default and the named export are the same plugin', () => {
    expect(named).type.toBe(berry)
  })

  test('the plugin is an async Fastify plugin taking BerryOptions', () => {
    expect(berry).type.toBe<(app: FastifyInstance, opts: BerryOptions) => Promise<void>>()
    expect(berry).type.toBeAssignableTo<FastifyPluginAsync<BerryOptions>>()
  })

  test('loadConfig reads a config source, with an optional env', () => {
    expect(loadConfig(config)).type.toBe<BerryConfig>()
    expect(loadConfig({ providers: {}, models: {} }, { env: { KEY: 'x' } })).type.toBe<BerryConfig>()
    expect(loadConfig(5)).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'ConfigSource'")
    expect(loadConfig(config, { env: { KEY: 1 } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
  })

  test('BerryError is an Error with a code, a status and an OpenAI error type', () => {
    expect<BerryError>().type.toBeAssignableTo<Error>()
    expect<BerryError['code']>().type.toBe<string>()
    expect<BerryError['statusCode']>().type.toBe<number>()
    expect<BerryError['type']>().type.toBe<
      | 'invalid_request_error'
      | 'authentication_error'
      | 'permission_error'
      | 'not_found_error'
      | 'rate_limit_error'
      | 'insufficient_quota'
      | 'api_error'
      | 'upstream_error'
      | 'timeout_error'
      | 'service_unavailable'
    >()
  })
})

describe('app.register(berry, options)', () => {
  test('config is a TOML file path, TOML text or a parsed object', () => {
    expect(app.register(berry, { config })).type.not.toRaiseError()
    expect(app.register(berry, { config: '[providers.p]\nbase_url = "http://127.0.0.1:8080/v1"\n' })).type.not.toRaiseError()
    expect(app.register(berry, { config: { providers: {}, models: {} } })).type.not.toRaiseError()
    expect(app.register(named, { config })).type.not.toRaiseError()
    expect<ConfigSource>().type.toBe<string | Record<string, unknown>>()
  })

  test('config is required, and typed', () => {
    expect(app.register(berry)).type.toRaiseError("Property 'config' is missing in type 'FastifyPluginOptions' but required in type 'BerryOptions'")
    expect(app.register(berry, {})).type.toRaiseError("Argument of type '{}' is not assignable to parameter of type 'FastifyRegisterOptions<BerryOptions>'")
    expect(app.register(berry, { config: 5 })).type.toRaiseError("Type 'number' is not assignable to type 'ConfigSource'")
    expect(app.register(berry, { config: null })).type.toRaiseError("Type 'null' is not assignable to type 'ConfigSource'")
  })

  test('an unknown option is an error', () => {
    expect(app.register(berry, { config, prefixx: '/llm' })).type.toRaiseError("'prefixx' does not exist in type")
  })

  test('every option at once', () => {
    const options: BerryOptions = {
      config,
      prefix: '/llm',
      authenticate: async (request) => request.headers['x-user'] === undefined ? null : { id: 'alice', allowedModels: ['gpt-4o'], tags: ['admin'] },
      random: Math.random,
      now: Date.now,
      env: process.env,
      metrics: { path: '/metrics', public: false, registry: new Registry() },
      onUsage: async (record) => { await Promise.resolve(record.totalTokens) },
      redis: 'redis://127.0.0.1:6379',
      status: { path: '/status' },
      cors: { origin: ['https://app.example.com', /\.example\.com$/], maxAge: 600 }
    }
    expect(app.register(berry, options)).type.not.toRaiseError()
  })

  test('prefix is a string', () => {
    expect(app.register(berry, { config, prefix: '/llm' })).type.not.toRaiseError()
    expect(app.register(berry, { config, prefix: 1 })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
  })

  test('authenticate returns a BerryUser or null, now or later', () => {
    expect(app.register(berry, { config, authenticate: () => ({ id: 'alice' }) })).type.not.toRaiseError()
    expect(app.register(berry, { config, authenticate: () => null })).type.not.toRaiseError()
    expect(app.register(berry, { config, authenticate: async () => ({ id: 'alice', tags: ['admin'] }) })).type.not.toRaiseError()
    expect(app.register(berry, { config, authenticate: () => 'alice' })).type.toRaiseError("Type 'string' is not assignable to type 'BerryUser | Promise<BerryUser | null | undefined> | null | undefined'")
    expect(app.register(berry, { config, authenticate: () => ({ id: 1 }) })).type.toRaiseError("Types of property 'id' are incompatible")
    expect(app.register(berry, { config, authenticate: async () => ({ name: 'alice' }) })).type.toRaiseError("Property 'id' is missing in type '{ name: string; }' but required in type 'BerryUser'")
    expect(app.register(berry, { config, authenticate: true })).type.toRaiseError("Type 'boolean' is not assignable to type 'Authenticate'")
  })

  test('random and now are functions returning numbers', () => {
    expect(app.register(berry, { config, random: () => 0.5, now: () => 0 })).type.not.toRaiseError()
    expect(app.register(berry, { config, random: 0.5 })).type.toRaiseError("Type 'number' is not assignable to type 'Random'")
    expect(app.register(berry, { config, random: () => '0.5' })).type.toRaiseError("Type '() => string' is not assignable to type 'Random'")
    expect(app.register(berry, { config, now: () => new Date() })).type.toRaiseError("Type '() => Date' is not assignable to type '() => number'")
  })

  test('env maps names to strings', () => {
    expect(app.register(berry, { config, env: { OPENAI_API_KEY: 'sk-test' } })).type.not.toRaiseError()
    expect(app.register(berry, { config, env: { PORT: 3000 } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(berry, { config, env: 'OPENAI_API_KEY=sk-test' })).type.toRaiseError("Type 'string' is not assignable to type 'Dict<string>'")
  })

  test('metrics is false or { path, public, registry }', () => {
    expect(app.register(berry, { config, metrics: false })).type.not.toRaiseError()
    expect(app.register(berry, { config, metrics: {} })).type.not.toRaiseError()
    expect(app.register(berry, { config, metrics: { registry: new Registry() } })).type.not.toRaiseError()
    expect(app.register(berry, { config, metrics: true })).type.toRaiseError("Type 'true' is not assignable to type 'false | MetricsOptions | undefined'")
    expect(app.register(berry, { config, metrics: { path: 9090 } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect(app.register(berry, { config, metrics: { public: 'yes' } })).type.toRaiseError("Type 'string' is not assignable to type 'boolean | undefined'")
    expect(app.register(berry, { config, metrics: { registry: {} } })).type.toRaiseError("Type '{}' is missing the following properties from type 'Registry")
    expect<MetricsOptions>().type.toBe<{ path?: string, public?: boolean, registry?: Registry }>()
  })

  test('onUsage takes a UsageRecord and may be async', () => {
    expect(app.register(berry, { config, onUsage: (record) => { console.log(record.requestId) } })).type.not.toRaiseError()
    expect(app.register(berry, { config, onUsage: async (record: UsageRecord) => { await Promise.resolve(record) } })).type.not.toRaiseError()
    expect(app.register(berry, { config, onUsage: (record: string) => { console.log(record) } })).type.toRaiseError("Type 'UsageRecord' is not assignable to type 'string'")
    expect(app.register(berry, { config, onUsage: (record) => record.totalTokens })).type.toRaiseError("Type 'number' is not assignable to type 'void | Promise<void>'")
  })

  test('redis is a URL or an ioredis client', () => {
    expect(app.register(berry, { config, redis: 'redis://127.0.0.1:6379' })).type.not.toRaiseError()
    expect(app.register(berry, { config, redis })).type.not.toRaiseError()
    expect(app.register(berry, { config, redis: 6379 })).type.toRaiseError(/Type 'number' is not assignable to type 'string \| Redis(<"legacy">)? \| undefined'/)
    expect(app.register(berry, { config, redis: { host: '127.0.0.1' } })).type.toRaiseError(/'host' does not exist in type 'Redis/)
  })

  test('status is a boolean or { path }', () => {
    expect(app.register(berry, { config, status: true })).type.not.toRaiseError()
    expect(app.register(berry, { config, status: { path: '/ops/berry' } })).type.not.toRaiseError()
    expect(app.register(berry, { config, status: 'on' })).type.toRaiseError("Type 'string' is not assignable to type 'boolean | StatusOptions | undefined'")
    expect(app.register(berry, { config, status: { path: 1 } })).type.toRaiseError("Type 'number' is not assignable to type 'string'")
    expect<StatusOptions>().type.toBe<{ path?: string }>()
  })

  test('cors is a boolean or { origin, maxAge }', () => {
    expect(app.register(berry, { config, cors: true })).type.not.toRaiseError()
    expect(app.register(berry, { config, cors: { origin: 'https://app.example.com' } })).type.not.toRaiseError()
    expect(app.register(berry, { config, cors: { origin: /\.example\.com$/, maxAge: 60 } })).type.not.toRaiseError()
    expect(app.register(berry, { config, cors: { origin: ['https://a.example.com', /\.example\.org$/] } })).type.not.toRaiseError()
    expect(app.register(berry, { config, cors: 'https://app.example.com' })).type.toRaiseError("Type 'string' is not assignable to type 'boolean | CorsOptions | undefined'")
    expect(app.register(berry, { config, cors: { origin: 443 } })).type.toRaiseError("Type 'number' is not assignable to type 'CorsOrigin | undefined'")
    expect(app.register(berry, { config, cors: { maxAge: '600' } })).type.toRaiseError("Type 'string' is not assignable to type 'number'")
    expect(app.register(berry, { config, cors: { credentials: true } })).type.toRaiseError("'credentials' does not exist in type 'CorsOptions'")
    expect<CorsOptions>().type.toBe<{ origin?: string | RegExp | ReadonlyArray<string | RegExp>, maxAge?: number }>()
  })
})

describe('app.berry', () => {
  test('is the BerryDecorator', () => {
    expect(app.berry).type.toBe<BerryDecorator>()
  })

  test('config is the frozen BerryConfig in force', () => {
    expect(app.berry.config).type.toBe<BerryConfig>()
    expect(app.berry.config.models.get('gpt-4o')).type.toBe<Model | undefined>()
    // Read-only, all the way down.
    expect(() => { app.berry.config = loadConfig(config) }).type.toRaiseError("Cannot assign to 'config' because it is a read-only property")
    expect(() => { app.berry.config.models.clear() }).type.toRaiseError("Property 'clear' does not exist on type 'ReadonlyMap<string, Model>'")
    expect(() => { app.berry.config.users.push(someUser) }).type.toRaiseError("Property 'push' does not exist on type 'readonly User[]'")
  })

  test('reload(source) returns what changed', () => {
    expect(app.berry.reload(config)).type.toBe<ConfigChange>()
    expect(app.berry.reload({ providers: {}, models: {} })).type.toBe<ConfigChange>()
    expect(app.berry.reload(5)).type.toRaiseError("Argument of type 'number' is not assignable to parameter of type 'ConfigSource'")
    expect(app.berry.reload()).type.toRaiseError('Expected 1 arguments, but got 0')
  })

  test('health() returns the /health summary', () => {
    expect(app.berry.health()).type.toBe<HealthSummary>()
  })

  test('usage(query?) resolves to totals per UTC day, user, model and backend', () => {
    expect(app.berry.usage()).type.toBe<Promise<UsageTotals[]>>()
    expect(app.berry.usage({ user: 'alice', from: '2026-12-01', to: '2026-12-02' })).type.toBe<Promise<UsageTotals[]>>()
    expect(app.berry.usage).type.not.toBeCallableWith({ user: 1 })
  })
})

describe('the records a host reads', () => {
  test('UsageRecord', () => {
    expect<UsageRecord>().type.toBe<{
      readonly requestId: string
      readonly user: string
      readonly model: string
      readonly backend: string
      readonly pinned: boolean
      readonly status: number
      readonly latencyMs: number
      readonly attempts: number
      readonly promptTokens: number
      readonly completionTokens: number
      readonly totalTokens: number
      readonly tokensReported: boolean
      readonly time: number
    }>()
  })

  test('UsageTotals', () => {
    expect<UsageTotals>().type.toBe<{
      readonly user: string
      readonly model: string
      readonly backend: string
      readonly day: string
      readonly requests: number
      readonly errors: number
      readonly prompt_tokens: number
      readonly completion_tokens: number
    }>()
  })

  test('ConfigChange', () => {
    expect<ConfigChange>().type.toBe<{
      readonly modelsAdded: string[]
      readonly modelsRemoved: string[]
      readonly backendsAdded: string[]
      readonly backendsRemoved: string[]
    }>()
  })

  test('BerryUser, and the Authenticate hook that returns it', () => {
    expect<BerryUser>().type.toBe<{
      readonly id: string
      readonly allowedModels?: readonly string[]
      readonly tags?: readonly string[]
    }>()
    expect<Authenticate>().type.toBe<(request: FastifyRequest) => BerryUser | null | undefined | Promise<BerryUser | null | undefined>>()
  })

  test('HealthSummary (GET /health, app.berry.health())', () => {
    type Ratio = { readonly total: number, readonly healthy: number, readonly ratio: number }
    expect<HealthSummary>().type.toBe<{
      // `draining` while app.close() lets requests in flight finish.
      readonly status: 'healthy' | 'unhealthy' | 'draining'
      readonly service_running: boolean
      readonly summary: { readonly provider_health: Ratio, readonly model_health: Ratio }
      readonly timestamp: string
    }>()
  })

  test('SimpleHealth (GET /v1/health) and DetailedHealth (GET /admin/health)', () => {
    expect<SimpleHealth['status']>().type.toBe<'healthy' | 'unhealthy'>()
    expect<SimpleHealth['uptime_seconds']>().type.toBe<number>()
    expect<SimpleHealth['models_available']>().type.toBe<boolean>()
    expect<DetailedHealth>().type.toBeAssignableTo<HealthSummary>()
    expect<DetailedHealth>().type.toHaveProperty('providers')
    expect<DetailedHealth>().type.toHaveProperty('models')
    expect<DetailedHealth>().type.toHaveProperty('unhealthy_backends')
  })

  test('StatusView (GET /admin/status) and TrafficSample', () => {
    expect<StatusView['status']>().type.toBe<'healthy' | 'degraded' | 'unhealthy'>()
    expect<StatusView['generated_at']>().type.toBe<string>()
    expect<StatusView['models'][number]['backends'][number]['state']>().type.toBe<'healthy' | 'failing' | 'unhealthy' | 'half_open' | 'recovering' | 'disabled'>()
    expect<TrafficSample['ttfbMs']>().type.toBe<number | undefined>()
    expect<TrafficSample['now']>().type.toBe<number>()
  })
})

describe('the resolved config', () => {
  test('BerryConfig holds read-only maps and lists', () => {
    expect<BerryConfig['providers']>().type.toBe<ReadonlyMap<string, Provider>>()
    expect<BerryConfig['models']>().type.toBe<ReadonlyMap<string, Model>>()
    expect<BerryConfig['modelsByKey']>().type.toBe<ReadonlyMap<string, Model>>()
    expect<BerryConfig['users']>().type.toBe<readonly User[]>()
    expect<BerryConfig['settings']>().type.toBe<Settings>()
    expect<BerryConfig['warnings']>().type.toBe<readonly string[]>()
  })

  test('Provider, Model, Backend, User and Settings carry the TOML keys, resolved', () => {
    expect<Provider['backendType']>().type.toBe<'openai' | 'claude' | 'gemini'>()
    expect<Provider['timeoutMs']>().type.toBe<number>()
    expect<Provider['ca']>().type.toBe<string | undefined>()
    expect<Model['strategy']>().type.toBe<
      'weighted_random' | 'failover' | 'round_robin' | 'least_latency' | 'random' | 'weighted_failover' | 'smart_weighted_failover' | 'smart_ai'
    >()
    expect<Model['backends']>().type.toBe<readonly Backend[]>()
    expect<Backend['provider']>().type.toBe<Provider>()
    expect<Backend['billingMode']>().type.toBe<'per_token' | 'per_request'>()
    expect<Backend['tags']>().type.toBe<readonly string[]>()
    expect<User['rateLimit']>().type.toBe<{ readonly perMinute: number | undefined, readonly perHour: number | undefined, readonly perDay: number | undefined } | undefined>()
    expect<Settings['backendPinning']>().type.toBe<'all' | 'off' | readonly string[]>()
    expect<Settings['redisUrl']>().type.toBe<string | undefined>()
  })
})
