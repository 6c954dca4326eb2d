/**
 * `berry-health benchmark`: serial rounds, then per backend the success
 * rate and latency statistics (and time to first chunk with --streaming).
 * The statistics themselves are checked on fixed numbers.
 */
import t from 'tap'
import { aggregate } from '../../cli/benchmark.js'
import type { ProbeResult } from '../../cli/probe.js'
import { spread } from '../../cli/stats.js'
import { ADMIN_TOKEN, TIMEOUT, plain, runCli, startFleet } from '../helpers/cli.js'
import { sse } from '../helpers/fake-upstream.js'

const bench = (url: string, ...rest: string[]): string[] =>
  ['benchmark', '--url', url, '--token', ADMIN_TOKEN, '--model', 'gpt-4o', '--timeout', TIMEOUT, ...rest]

t.test('spread: min, median, mean, max', async (t) => {
  t.equal(spread([]), undefined)
  t.same(spread([7]), { min: 7, median: 7, mean: 7, max: 7 })
  t.same(spread([30, 10, 20]), { min: 10, median: 20, mean: 20, max: 30 })
  t.same(spread([4, 1, 3, 2]), { min: 1, median: 2.5, mean: 2.5, max: 4 })
})

t.test('aggregate: success rate, latency of the successes only, the last error', async (t) => {
  const r = (status: ProbeResult['status'], latencyMs: number, firstChunkMs: number | null = null): ProbeResult =>
    ({ model: 'm', backend: 'b', status, httpStatus: status === 'healthy' ? 200 : 502, latencyMs, firstChunkMs, detail: status === 'healthy' ? 'pong' : 'down', code: null })
  const [stats] = aggregate([[r('healthy', 10, 4)], [r('unhealthy', 1)], [r('healthy', 30, 6)]])
  t.match(stats, {
    model: 'm',
    backend: 'b',
    requests: 3,
    successes: 2,
    latency: { min: 10, median: 20, mean: 20, max: 30 },
    firstChunk: { min: 4, median: 5, mean: 5, max: 6 },
    statuses: { healthy: 2, unhealthy: 1 },
    lastError: 'unhealthy (HTTP 502): down'
  })
})

t.test('rounds over fast, slow and dead backends', async (t) => {
  const { berry, fast, slow } = await startFleet(t)
  const res = await runCli(bench(berry.url, '--rounds', '2', '--json'))
  t.equal(res.code, 1, 'not every request succeeded')
  const doc = JSON.parse(res.stdout)
  t.match(doc, { rounds: 2, streaming: false })
  const by = (backend: string) => doc.results.find((r: { backend: string }) => r.backend === backend)
  const ok = by('fast')
  t.match(ok, { model: 'gpt-4o', requests: 2, successes: 2, success_rate: 1, statuses: { healthy: 2 }, last_error: null, first_chunk_ms: null })
  t.ok(ok.latency_ms.min <= ok.latency_ms.median && ok.latency_ms.median <= ok.latency_ms.max)
  t.ok(ok.latency_ms.min <= ok.latency_ms.mean && ok.latency_ms.mean <= ok.latency_ms.max)
  t.match(by('slow'), { requests: 2, successes: 0, success_rate: 0, latency_ms: null, statuses: { timeout: 2 }, last_error: `timeout: no answer within ${TIMEOUT}s` })
  t.match(by('dead'), { requests: 2, successes: 0, statuses: { unhealthy: 2 }, last_error: /^unhealthy \(HTTP 502\): Backend 'dead' could not be reached/ })
  t.equal(fast.received.length, 2)
  t.equal(slow.received.length, 2)
})

t.test('the table, and exit 0 when every request succeeded', async (t) => {
  const { berry } = await startFleet(t)
  const res = await runCli(bench(berry.url, '--rounds', '3', '--backends', 'fast'))
  t.equal(res.code, 0)
  t.match(res.stdout, /^BACKEND\s+MODEL\s+SUCCESS\s+LATENCY min \/ median \/ mean \/ max$/m)
  t.match(res.stdout, /^fast\s+gpt-4o\s+3\/3 \(100%\)\s+\d+ \/ \d+ \/ \d+ \/ \d+ ms$/m)
  t.ok(plain(res.stdout))

  const mixed = await runCli(bench(berry.url, '--rounds', '1'))
  t.match(mixed.stdout, /^dead \(gpt-4o\): 1 failed; last: unhealthy \(HTTP 502\)/m)
  t.match(mixed.stdout, /^slow\s+gpt-4o\s+0\/1 \(0%\)\s+-$/m)
})

t.test('--streaming adds the time to the first chunk', async (t) => {
  const { berry } = await startFleet(t, sse({ chunks: 3, delayMs: 5 }))
  const res = await runCli(bench(berry.url, '--rounds', '2', '--backends', 'fast', '--streaming', '--json'))
  t.equal(res.code, 0)
  const [fast] = JSON.parse(res.stdout).results
  t.match(fast, { successes: 2, first_chunk_ms: { min: Number, median: Number, mean: Number, max: Number } })
  t.ok(fast.first_chunk_ms.max <= fast.latency_ms.max)
  const table = await runCli(bench(berry.url, '--rounds', '1', '--backends', 'fast', '--streaming'))
  t.match(table.stdout, /FIRST CHUNK min \/ median \/ mean \/ max$/m)
  t.match(table.stdout, /^fast\s+gpt-4o\s+1\/1 \(100%\)\s+(\d+ \/ ){3}\d+ ms\s+(\d+ \/ ){3}\d+ ms$/m)
})
