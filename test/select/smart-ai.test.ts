/**
 * smart_ai, statistically, with a seeded source and a hand-set clock (no
 * HTTP): a backend failing with 500s settles at the share the formula
 * gives, climbs back once it recovers, and berry's internal re-draws
 * (max_internal_retries) thin its trickle as p^(k+1).
 */
import t, { type Test as Tap } from 'tap'
import { loadConfig } from '../../plugin/config/load.js'
import type { Backend, BerryConfig, Model } from '../../plugin/config/types.js'
import { HealthTracker } from '../../plugin/health/tracker.js'
import { selectBackend, type SelectContext } from '../../plugin/select/dispatch.js'
import { SelectionState } from '../../plugin/select/selection-state.js'
import { activeOf } from '../../plugin/snapshot.js'
import { confidenceShare, smartAi, smartAiWeight } from '../../plugin/select/smart-ai.js'
import type { StrategyState } from '../../plugin/select/strategy.js'
import { seeded } from '../helpers/random.js'

function twins (settings = ''): BerryConfig {
  return loadConfig(`
[providers.failing]
base_url = "http://127.0.0.1:1/v1"
[providers.healthy]
base_url = "http://127.0.0.1:2/v1"

[models.twin]
strategy = "smart_ai"
[[models.twin.backends]]
provider = "failing"
model = "m"
weight = 1.0
[[models.twin.backends]]
provider = "healthy"
model = "m"
weight = 1.0

[settings]
${settings}
`)
}

const anyone = { tags: [] }
const model = (config: BerryConfig): Model => config.models.get('twin') as Model

function context (config: BerryConfig, health: HealthTracker, random: () => number, now: number, exclude?: Set<string>): SelectContext {
  return { health, random, now, state: new SelectionState(), settings: config.settings, user: anyone, ...(exclude === undefined ? {} : { exclude }) }
}

/**
 * Client requests as the proxy serves them: a pick, its outcome recorded,
 * failover to the other backend when it fails. Counts the first picks
 * after `warmup` requests, and checks that every request ended well.
 */
function serve (t: Tap, config: BerryConfig, health: HealthTracker, fails: (b: Backend) => boolean, run: { warmup: number, draws: number, seed: number, clock: { now: number } }): number {
  const random = seeded(run.seed)
  const m = model(config)
  let failingPicks = 0
  let served = 0
  for (let i = 0; i < run.warmup + run.draws; i++) {
    run.clock.now += 100
    const tried = new Set<string>()
    let pick = selectBackend(m, activeOf(m), context(config, health, random, run.clock.now))
    if (i >= run.warmup && pick?.backend.provider.id === 'failing') failingPicks++
    while (pick !== undefined) {
      const { backend } = pick
      tried.add(backend.key)
      if (!fails(backend)) {
        health.recordSuccess(backend.key, 50, run.clock.now)
        served++
        break
      }
      health.recordFailure(backend.key, { status: 500, error: 'HTTP 500' }, run.clock.now, backend.provider.breaker)
      pick = selectBackend(m, activeOf(m), context(config, health, random, run.clock.now, tried))
    }
  }
  t.equal(served, run.warmup + run.draws, 'failover: every client request was served')
  return failingPicks
}

/** Passes when `count` is within 3 standard deviations of a binomial(n, p) mean. */
function within3sd (t: Tap, count: number, n: number, p: number, what: string): void {
  const mean = n * p
  const sd = Math.sqrt(n * p * (1 - p))
  t.ok(Math.abs(count - mean) <= 3 * sd, `${what}: ${count} of ${n}, expected ${mean.toFixed(1)} ± ${(3 * sd).toFixed(1)} (3 sd)`)
}

t.test('the effective weight formula', async (t) => {
  const config = twins()
  const backend = model(config).backends[0] as Backend
  const settings = config.settings.smartAi
  t.equal(confidenceShare(0.05), 0.1, 'below 0.1: a flat 0.1')
  t.equal(confidenceShare(0.1), 0.3 + 0.7 * Math.sqrt(0.1))
  t.equal(confidenceShare(0.64), 0.3 + 0.7 * 0.8)
  t.equal(confidenceShare(1), 1)
  t.equal(smartAiWeight(backend, 0.95, settings), 0.3 + 0.7 * Math.sqrt(0.95), 'no bonus at 0.95')
  t.equal(smartAiWeight(backend, 0.96, settings), Math.min(1, 0.3 + 0.7 * Math.sqrt(0.96)) * 1.1, 'a non-premium backend above 0.95 gets the bonus')
  const premium = { ...backend, tags: ['premium'], weight: 2 }
  t.equal(smartAiWeight(premium, 1, settings), 2, 'a premium backend never does')
})

t.test('a backend failing with 500s settles at the share the formula gives', async (t) => {
  // The failing backend sinks to min_confidence = 0.05 (0.8 - 0.2 x 4, floored),
  // below 0.1, so c = 0.1 and its effective weight is 1 x 0.1 = 0.1. Its healthy
  // twin climbs to confidence 1: c = min(1, 0.3 + 0.7 x sqrt(1)) = 1, and, not
  // premium and above 0.95, the 1.1 bonus: 1 x 1 x 1.1 = 1.1.
  // exploration_ratio = 0:   p = 0.1 / (0.1 + 1.1) = 1/12 = 0.0833.
  // exploration_ratio = 0.2: p = 0.8 x 1/12 + 0.2 x 1/2 = 1/15 + 1/10 = 1/6 = 0.1667.
  // max_internal_retries = 0: no re-draw, so these are the shares of traffic.
  const failing = (b: Backend): boolean => b.provider.id === 'failing'
  for (const [exploration, p] of [[0, 1 / 12], [0.2, 1 / 6]] as const) {
    const config = twins(`max_internal_retries = 0\n[settings.smart_ai]\nexploration_ratio = ${exploration}`)
    const health = new HealthTracker(() => config.settings.smartAi)
    const clock = { now: 1_700_000_000_000 }
    const picks = serve(t, config, health, failing, { warmup: 100, draws: 2000, seed: 11, clock })
    within3sd(t, picks, 2000, p, `exploration_ratio ${exploration}`)
    t.equal(health.confidence.confidence('failing/m', clock.now) < 0.1, true, 'the failing backend sits at the floor')

    // It recovers: every pick of it now succeeds, its confidence climbs back
    // (+0.1 per success) to 1, and the twins share the traffic 1.1 : 1.1.
    const after = serve(t, config, health, () => false, { warmup: 300, draws: 2000, seed: 12, clock })
    within3sd(t, after, 2000, 0.5, `after recovery, exploration_ratio ${exploration}`)
    t.ok(health.confidence.confidence('failing/m', clock.now) > 0.99, 'full confidence again')
  }
})

t.test('the climb back goes step by step, each success raising the share', async (t) => {
  const config = twins('max_internal_retries = 0\n[settings.smart_ai]\nexploration_ratio = 0')
  const health = new HealthTracker(() => config.settings.smartAi)
  const clock = { now: 1_700_000_000_000 }
  serve(t, config, health, (b) => b.provider.id === 'failing', { warmup: 200, draws: 0, seed: 3, clock })
  const confidences = [health.confidence.confidence('failing/m', clock.now)]
  for (let round = 0; round < 30; round++) {
    serve(t, config, health, () => false, { warmup: 0, draws: 4, seed: 100 + round, clock })
    confidences.push(health.confidence.confidence('failing/m', clock.now))
  }
  const shown = confidences.map((c) => c.toFixed(2)).join(' ')
  // Between two reads the only change is +0.1 per success, less a decay of
  // well under 0.001 for seconds of idleness.
  t.ok(confidences.every((c, i) => i === 0 || c >= (confidences[i - 1] as number) - 1e-3), `never falls back: ${shown}`)
  t.ok((confidences[0] as number) < 0.1 && (confidences.at(-1) as number) > 0.99, 'from the floor to full')
  t.ok(new Set(confidences.filter((c) => c > 0.1 && c < 0.95).map((c) => c.toFixed(2))).size >= 3, 'through intermediate steps')
  // And its share of the draw rises with it: c = 0.1 at the floor, 1 at the top.
  const backend = model(config).backends[0] as Backend
  const weights = confidences.map((c) => smartAiWeight(backend, c, config.settings.smartAi))
  t.ok(weights.every((w, i) => i === 0 || w >= (weights[i - 1] as number) - 1e-3), 'its effective weight never falls back')
})

t.test('max_internal_retries thins the trickle of an open backend to p^(k+1)', async (t) => {
  // The failing backend's circuit is open (5 failures, cooling for 60 s) and
  // its confidence is at the floor; the twin is at 1. One draw picks the
  // failing one with p = 1/6 (exploration 0.2, as above); berry draws again
  // while the pick is open, k times at most, so it keeps p^(k+1):
  // k = 1: 1/36 = 0.0278; k = 2 (the default): 1/216 = 0.00463.
  for (const [k, p] of [[1, 1 / 36], [2, 1 / 216]] as const) {
    const config = twins(`max_internal_retries = ${k}`)
    const health = new HealthTracker(() => config.settings.smartAi)
    const m = model(config)
    const [failing, healthy] = m.backends as [Backend, Backend]
    for (let i = 0; i < 5; i++) health.recordFailure(failing.key, { status: 500, error: 'HTTP 500' }, 0, failing.provider.breaker)
    for (let i = 0; i < 3; i++) health.recordSuccess(healthy.key, 50, 0)
    t.notOk(health.isAvailable(failing.key, 1000, failing.provider.breaker), 'the circuit is open')
    const random = seeded(21 + k)
    let picks = 0
    for (let i = 0; i < 4000; i++) {
      const s = selectBackend(m, activeOf(m), context(config, health, random, 1000))
      if (s?.backend === failing) {
        picks++
        t.equal(s.lastResort, false, 'a trickle pick is not a last resort')
      }
    }
    within3sd(t, picks, 4000, p, `max_internal_retries = ${k}`)
  }
})

t.test('every circuit open: smart_ai still draws by confidence, flagged as a last resort', async (t) => {
  const config = twins()
  const health = new HealthTracker(() => config.settings.smartAi)
  for (const backend of model(config).backends) {
    health.recordFailure(backend.key, { status: 401, error: 'HTTP 401' }, 0, backend.provider.breaker)
  }
  const s = selectBackend(model(config), activeOf(model(config)), context(config, health, seeded(1), 10))
  t.equal(s?.lastResort, true)
})

t.test('exploration picks uniformly among the candidates, whatever their confidence', async (t) => {
  const config = twins('[settings.smart_ai]\nexploration_ratio = 1')
  const [a, b] = model(config).backends as [Backend, Backend]
  const state: StrategyState = {
    available: () => true,
    recoveryFactor: () => 1,
    confidence: (backend) => backend === a ? 0.05 : 1,
    latencyMs: () => undefined,
    nextTurn: () => 0,
    smartAi: config.settings.smartAi
  }
  const random = seeded(5)
  let picksOfA = 0
  for (let i = 0; i < 2000; i++) if (smartAi([a, b], state, { random, now: 0 }) === a) picksOfA++
  within3sd(t, picksOfA, 2000, 0.5, 'uniform')
  t.equal(smartAi([], state, { random, now: 0 }), undefined)
})
