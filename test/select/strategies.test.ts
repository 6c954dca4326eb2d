/**
 * Each strategy alone, through the dispatcher, with a seeded source and a
 * hand-set clock: round_robin's exact rotation, least_latency's preference,
 * random's indifference to weights, the priority tiers of
 * failover / weighted_failover, and smart_weighted_failover's trickle.
 */
import t, { type Test as Tap } from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import type { Backend, BerryConfig, Model, Strategy } from '../../plugin/config/types.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { selectBackend, type SelectContext } from '../../plugin/select/dispatch.js'
import { SelectionState } from '../../plugin/select/selection-state.js'
import { activeOf } from '../../plugin/snapshot.js'
import { STRATEGY_IMPLEMENTATIONS } from '../../plugin/select/strategies.js'
import { TRICKLE_SHARE } from '../../plugin/select/tiered.js'
import { seeded } from '../helpers/random.js'

/** Backends a, b, c (weights 3, 1, 1; priorities 0, 0, 1) under `strategy`. */
function three (strategy: Strategy, settings = ''): { config: BerryConfig, model: Model, a: Backend, b: Backend, c: Backend } {
  const config = loadConfig(`
[providers.a]
base_url = "http://127.0.0.1:1/v1"
[providers.b]
base_url = "http://127.0.0.1:2/v1"
[providers.c]
base_url = "http://127.0.0.1:3/v1"
[models.m]
strategy = "${strategy}"
[[models.m.backends]]
provider = "a"
model = "x"
weight = 3
priority = 0
[[models.m.backends]]
provider = "b"
model = "x"
weight = 1
priority = 0
[[models.m.backends]]
provider = "c"
model = "x"
weight = 1
priority = 1
[settings]
circuit_breaker_failure_threshold = 1
${settings}
`)
  const model = config.models.get('m') as Model
  const [a, b, c] = model.backends as [Backend, Backend, Backend]
  return { config, model, a, b, c }
}

function ctx (config: BerryConfig, health: HealthTracker, state: SelectionState, random: () => number, now = 0): SelectContext {
  return { health, random, now, state, settings: config.settings, user: { tags: [] } }
}

function shares (t: Tap, config: BerryConfig, model: Model, health: HealthTracker, n: number, seed: number, now = 0): Record<string, number> {
  const state = new SelectionState()
  const random = seeded(seed)
  const counts: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const id = selectBackend(model, activeOf(model), ctx(config, health, state, random, now))?.backend.provider.id ?? 'none'
    counts[id] = (counts[id] ?? 0) + 1
  }
  t.comment(`${model.strategy}: ${JSON.stringify(counts)}`)
  return counts
}

function within3sd (t: Tap, count: number, n: number, p: number, what: string): void {
  const sd = Math.sqrt(n * p * (1 - p))
  t.ok(Math.abs(count - n * p) <= 3 * sd, `${what}: ${count} of ${n}, expected ${(n * p).toFixed(1)} ± ${(3 * sd).toFixed(1)}`)
}

t.test('every strategy name has an implementation', async (t) => {
  t.same(Object.keys(STRATEGY_IMPLEMENTATIONS).sort(), ['failover', 'least_latency', 'random', 'round_robin', 'smart_ai', 'smart_weighted_failover', 'weighted_failover', 'weighted_random'])
})

t.test('round_robin: an exact rotation in config order, whatever the weights', async (t) => {
  const { config, model } = three('round_robin')
  const health = new HealthTracker()
  const state = new SelectionState()
  const order = Array.from({ length: 9 }, () => selectBackend(model, activeOf(model), ctx(config, health, state, seeded(1)))?.backend.provider.id)
  t.same(order, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c'])
  t.same(shares(t, config, model, health, 3000, 2), { a: 1000, b: 1000, c: 1000 }, 'exactly a third each')
})

t.test('round_robin: per model and per instance; an open backend is skipped', async (t) => {
  const { config, model, b } = three('round_robin')
  const health = new HealthTracker()
  const mine = new SelectionState()
  const other = new SelectionState()
  t.equal(selectBackend(model, activeOf(model), ctx(config, health, mine, seeded(1)))?.backend.provider.id, 'a')
  t.equal(selectBackend(model, activeOf(model), ctx(config, health, other, seeded(1)))?.backend.provider.id, 'a', 'another instance keeps its own turn')
  health.recordFailure(b.key, { status: 500, error: 'HTTP 500' }, 0, b.provider.breaker)
  t.same(shares(t, config, model, health, 3000, 3, 10), { a: 1500, c: 1500 })
})

t.test('least_latency: each backend is measured once, then the fastest is preferred', async (t) => {
  const { config, model, a, b, c } = three('least_latency')
  const health = new HealthTracker()
  const state = new SelectionState()
  const latency: Record<string, number> = { a: 120, b: 40, c: 300 }
  const first: string[] = []
  for (let i = 0; i < 3; i++) {
    const pick = selectBackend(model, activeOf(model), ctx(config, health, state, seeded(i)))?.backend as Backend
    first.push(pick.provider.id)
    health.recordSuccess(pick.key, latency[pick.provider.id] as number, 0)
  }
  t.same(first, ['a', 'b', 'c'], 'unmeasured backends first, in config order')
  t.same(shares(t, config, model, health, 100, 4), { b: 100 }, 'then the fastest, every time')

  // b slows down: its moving average passes a's, and a takes over.
  for (let i = 0; i < 10; i++) health.recordSuccess(b.key, 500, 0)
  t.ok((health.latencyMs(b.key) as number) > (health.latencyMs(a.key) as number))
  t.equal(selectBackend(model, activeOf(model), ctx(config, health, state, seeded(5)))?.backend, a)
  health.recordFailure(a.key, { status: 500, error: 'HTTP 500' }, 0, a.provider.breaker)
  t.equal(selectBackend(model, activeOf(model), ctx(config, health, state, seeded(6), 1))?.backend, c, 'an open backend is left out, however fast: c (300 ms) beats b (now ~490 ms)')
})

t.test('random: uniform among the available backends, weights ignored', async (t) => {
  const { config, model } = three('random')
  const counts = shares(t, config, model, new HealthTracker(), 3000, 7)
  for (const id of ['a', 'b', 'c']) within3sd(t, counts[id] ?? 0, 3000, 1 / 3, id)
})

t.test('weighted_random: weights honoured, open backends left out', async (t) => {
  const { config, model, c } = three('weighted_random')
  const health = new HealthTracker()
  const counts = shares(t, config, model, health, 5000, 8)
  within3sd(t, counts.a ?? 0, 5000, 3 / 5, 'a (3 of 5)')
  health.recordFailure(c.key, { status: 500, error: 'HTTP 500' }, 0, c.provider.breaker)
  t.equal(shares(t, config, model, health, 500, 9, 1).c, undefined)
})

t.test('failover and weighted_failover: weighted inside the best tier, the next tier when it has nothing available', async (t) => {
  for (const strategy of ['failover', 'weighted_failover'] as const) {
    const { config, model, a, b } = three(strategy)
    const health = new HealthTracker()
    const counts = shares(t, config, model, health, 4000, 10)
    t.equal(counts.c, undefined, `${strategy}: the second tier idles while the first serves`)
    within3sd(t, counts.a ?? 0, 4000, 3 / 4, `${strategy}: a against b, 3:1`)
    health.recordFailure(a.key, { status: 500, error: 'HTTP 500' }, 0, a.provider.breaker)
    t.same(shares(t, config, model, health, 200, 11, 1), { b: 200 }, `${strategy}: b holds the tier alone`)
    health.recordFailure(b.key, { status: 500, error: 'HTTP 500' }, 0, b.provider.breaker)
    t.same(shares(t, config, model, health, 200, 12, 1), { c: 200 }, `${strategy}: down to the next tier`)
  }
})

t.test('smart_weighted_failover: an open backend of the serving tier keeps a trickle of its weight', async (t) => {
  // a (weight 3) is open: it stays in the draw at TRICKLE_SHARE of its weight,
  // 0.1 x 3 = 0.3 against b's 1: p(a) = 0.3 / 1.3 = 0.2308 with no re-draw.
  const { config, model, a } = three('smart_weighted_failover', 'max_internal_retries = 0')
  const health = new HealthTracker()
  health.recordFailure(a.key, { status: 500, error: 'HTTP 500' }, 0, a.provider.breaker)
  const counts = shares(t, config, model, health, 4000, 13, 1)
  within3sd(t, counts.a ?? 0, 4000, (TRICKLE_SHARE * 3) / (TRICKLE_SHARE * 3 + 1), 'a, open, trickle')
  t.equal(counts.c, undefined, 'the next tier idles while b serves')

  // Back: a climbs 10%, 30%, 50%, 100% of its weight with each success.
  health.recordSuccess(a.key, 10, 2)
  t.equal(health.weightFactor(a.key), 0.1)

  // The default max_internal_retries = 2 thins the trickle to p^3.
  const defaults = three('smart_weighted_failover')
  const h2 = new HealthTracker()
  h2.recordFailure(defaults.a.key, { status: 500, error: 'HTTP 500' }, 0, defaults.a.provider.breaker)
  const p = 0.3 / 1.3
  within3sd(t, shares(t, defaults.config, defaults.model, h2, 4000, 14, 1).a ?? 0, 4000, p ** 3, 'with two re-draws')
})

t.test('when every backend is open, the one whose cooldown ends first is a last resort', async (t) => {
  for (const strategy of ['weighted_random', 'round_robin', 'least_latency', 'random', 'failover', 'weighted_failover', 'smart_weighted_failover'] as const) {
    const { config, model, a, b, c } = three(strategy)
    const health = new HealthTracker()
    health.recordFailure(a.key, { status: 500, error: 'HTTP 500' }, 30, a.provider.breaker)
    health.recordFailure(b.key, { status: 500, error: 'HTTP 500' }, 10, b.provider.breaker)
    health.recordFailure(c.key, { status: 500, error: 'HTTP 500' }, 20, c.provider.breaker)
    const pick = selectBackend(model, activeOf(model), ctx(config, health, new SelectionState(), seeded(1), 40))
    t.equal(pick?.lastResort, true, `${strategy}: last resort`)
    if (strategy !== 'smart_weighted_failover') t.equal(pick?.backend, b, `${strategy}: b cools first`)
  }
})
