/**
 * berry's own checks over real sockets (fake upstreams on port 0):
 * recovery checks of open per-token backends with a 1-token completion,
 * smart_ai's free connectivity checks, probes, their timeout
 * (health_check_timeout_seconds), and the timers that run them.
 */
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { loadConfig } from '../../plugin/config/load.js'
import type { Backend, BerryConfig } from '../../plugin/config/types.js'
import type { RecoveryRequestBuilder } from '../../plugin/health/check-request.js'
import { startHealthChecks } from '../../plugin/health/checks.js'
import { connectivityTargets, runConnectivityChecks } from '../../plugin/health/connectivity.js'
import { probeProvider } from '../../plugin/health/prober.js'
import { recoveryTargets, runRecoveryChecks } from '../../plugin/health/recovery.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { hang, json, startUpstream, status, type FakeUpstream } from '../helpers/fake-upstream.js'

async function upstream (t: Test, behaviour = json()): Promise<FakeUpstream> {
  const u = await startUpstream(behaviour)
  t.teardown(() => u.close())
  return u
}

function setup (t: Test, origins: { token: string, request: string, other: string }, extra = ''): { config: BerryConfig, health: HealthTracker, deps: { current: () => BerryConfig, health: HealthTracker, dispatcher: Agent, now: () => number }, clock: { now: number } } {
  const config = loadConfig(`
[providers.token]
base_url = "${origins.token}/v1"
api_key = "sk-recovery-secret-1234"
[providers.request]
base_url = "${origins.request}/v1"
[providers.other]
base_url = "${origins.other}/v1?api-version=2"

[models.smart]
strategy = "smart_ai"
[[models.smart.backends]]
provider = "token"
model = "up-model"
[[models.smart.backends]]
provider = "request"
model = "up-model"
billing_mode = "per_request"

[models.plain]
[[models.plain.backends]]
provider = "other"
model = "other-model"
[[models.plain.backends]]
provider = "token"
model = "up-model"

[settings]
health_check_timeout_seconds = 0.3
${extra}
`)
  const health = new HealthTracker(() => config.settings.smartAi)
  const dispatcher = new Agent()
  t.teardown(() => dispatcher.close())
  const clock = { now: 1_000_000 }
  return { config, health, deps: { current: () => config, health, dispatcher, now: () => clock.now }, clock }
}

const backend = (config: BerryConfig, model: string, provider: string): Backend =>
  config.models.get(model)!.backends.find((b) => b.provider.id === provider)!

function open (health: HealthTracker, b: Backend, now: number): void {
  health.recordFailure(b.key, { status: 401, error: 'HTTP 401' }, now, b.provider.breaker)
}

t.test('recovery targets: open circuits of per-token backends, once each', async (t) => {
  const { config, health } = setup(t, { token: 'http://127.0.0.1:1', request: 'http://127.0.0.1:2', other: 'http://127.0.0.1:3' })
  t.same(recoveryTargets(config, health), [], 'nothing open, nothing to check')
  open(health, backend(config, 'smart', 'token'), 0)
  open(health, backend(config, 'smart', 'request'), 0)
  open(health, backend(config, 'plain', 'other'), 0)
  t.same(recoveryTargets(config, health).map((b) => b.key), ['token/up-model', 'other/other-model'], 'per-request backends recover from passive traffic only; a key shared by two models once')
  health.attemptStarted('other/other-model', 10_000_000)
  t.same(recoveryTargets(config, health).map((b) => b.key), ['token/up-model'], 'a half-open backend has its trial on the way')
})

t.test('a recovery check is a 1-token completion; an answer closes the circuit', async (t) => {
  const token = await upstream(t)
  const request = await upstream(t)
  const other = await upstream(t)
  const { config, health, deps } = setup(t, { token: token.origin, request: request.origin, other: other.origin })
  const b = backend(config, 'smart', 'token')
  open(health, b, 1_000_000)
  open(health, backend(config, 'smart', 'request'), 1_000_000)
  const results = await runRecoveryChecks(deps)
  t.match(results, [{ backend: 'token/up-model', ok: true, status: 200 }])
  t.equal(token.received.length, 1)
  const seen = token.received[0]!
  t.equal(seen.method, 'POST')
  t.equal(seen.url, '/v1/chat/completions')
  t.equal(seen.headers.authorization, 'Bearer sk-recovery-secret-1234')
  t.same(seen.json, { model: 'up-model', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 1, stream: false })
  t.equal(request.received.length, 0, 'the per-request backend is never checked')
  t.equal(health.snapshot(b.key).state, 'healthy')
  t.equal(health.weightFactor(b.key), 0.1, 'back at 10% of its weight first')
  t.ok(health.confidence.confidence(b.key, 1_000_000) > 0.05, 'a real answer counts toward confidence')
})

t.test('a failed recovery check is a failed trial; a 400 proves nothing', async (t) => {
  const token = await upstream(t, status(503))
  const { config, health, deps, clock } = setup(t, { token: token.origin, request: 'http://127.0.0.1:1', other: 'http://127.0.0.1:1' })
  const b = backend(config, 'smart', 'token')
  open(health, b, 0)
  clock.now = 5000
  t.match(await runRecoveryChecks(deps), [{ ok: false, status: 503, result: 'HTTP 503' }])
  t.match(health.snapshot(b.key), { state: 'open', lastError: 'recovery check: HTTP 503', cooldownUntil: 5000 + b.provider.breaker.cooldownMs })
  t.equal(health.confidence.record(b.key).errorCounts.server, 1)

  token.behave(status(400, { error: { message: 'max_tokens must be at least 16' } }))
  clock.now = 6000
  await runRecoveryChecks(deps)
  t.match(health.snapshot(b.key), { state: 'open', cooldownUntil: 5000 + b.provider.breaker.cooldownMs }, 'unchanged')
})

t.test('health_check_timeout_seconds bounds a check; the request builder is a parameter', async (t) => {
  const token = await upstream(t, hang())
  const other = await upstream(t)
  const { config, health, deps } = setup(t, { token: token.origin, request: 'http://127.0.0.1:1', other: other.origin })
  open(health, backend(config, 'smart', 'token'), 0)
  open(health, backend(config, 'plain', 'other'), 0)
  const built: string[] = []
  const custom: RecoveryRequestBuilder = (b) => {
    built.push(b.key)
    return { method: 'POST', path: `${b.provider.basePath}/messages`, headers: { 'x-api-key': 'k', 'content-type': 'application/json' }, body: '{"max_tokens":1}' }
  }
  const results = await runRecoveryChecks({ ...deps, recoveryRequest: custom })
  t.same(built.sort(), ['other/other-model', 'token/up-model'])
  t.match(results.find((r) => r.backend === 'token/up-model'), { ok: false, timeout: true, status: undefined })
  t.equal(health.confidence.record('token/up-model').errorCounts.timeout, 1)
  t.equal(other.received[0]?.url, '/v1/messages', 'the path is the builder\'s to make')
  t.equal(other.received[0]?.headers['x-api-key'], 'k')
})

t.test('connectivity checks: smart_ai providers only; a failure halves confidence and touches no circuit', async (t) => {
  const token = await upstream(t, status(500))
  const request = await upstream(t)
  const other = await upstream(t)
  const { config, health, deps } = setup(t, { token: token.origin, request: request.origin, other: other.origin })
  t.same([...connectivityTargets(config).keys()], ['token'], 'per-request and non-smart_ai backends are not checked')
  t.same(await runConnectivityChecks(deps), [{ provider: 'token', ok: false }])
  t.equal(token.received[0]?.method, 'GET')
  t.equal(token.received[0]?.url, '/v1/models')
  t.equal(request.received.length + other.received.length, 0)
  t.equal(health.confidence.confidence('token/up-model', 1_000_000), 0.4, '0.8 halved')
  t.equal(health.confidence.record('token/up-model').connectivityOk, false)
  t.ok(health.isHealthy('token/up-model'), 'no circuit moves')
  token.behave(json())
  await runConnectivityChecks(deps)
  t.equal(health.confidence.record('token/up-model').connectivityOk, true)
})

t.test('probes: bounded by health_check_timeout_seconds, breaker only', async (t) => {
  const token = await upstream(t, hang())
  const { config, health, deps } = setup(t, { token: token.origin, request: 'http://127.0.0.1:1', other: 'http://127.0.0.1:1' }, 'circuit_breaker_failure_threshold = 1')
  const provider = config.providers.get('token')!
  t.same(await probeProvider(provider, deps), { ok: false, result: 'probe failed: timeout' })
  t.equal(health.snapshot('token/up-model').state, 'open')
  t.equal(health.confidence.record('token/up-model').totalRequests, 0, 'confidence is learnt from real traffic only')
})

t.test('startHealthChecks runs each check on its own timer and stops them all', async (t) => {
  const token = await upstream(t)
  const other = await upstream(t)
  const { config, health, deps } = setup(t, { token: token.origin, request: 'http://127.0.0.1:1', other: other.origin },
    'recovery_check_interval_seconds = 0.02\n[settings.smart_ai]\nlightweight_check_interval_seconds = 0.02')
  open(health, backend(config, 'plain', 'other'), 1_000_000)
  const stop = startHealthChecks(deps)
  for (let i = 0; i < 200 && (!health.isHealthy('other/other-model') || !token.received.some((r) => r.url === '/v1/models')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  stop()
  t.ok(health.isHealthy('other/other-model'), 'the recovery check brought it back')
  t.ok(token.received.some((r) => r.url === '/v1/models'), 'a connectivity check ran')
  const count = token.received.length + other.received.length
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.equal(token.received.length + other.received.length, count, 'nothing after stop()')
})
