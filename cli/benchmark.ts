/**
 * `benchmark`: --rounds serial rounds over every backend (one request at a
 * time, so backends do not slow each other down), then per backend the
 * success rate and the min / median / mean / max latency of the successful
 * requests, and the time to the first chunk with --streaming. Exit status 0
 * only when every request succeeded.
 */
import { runRound } from './check.js'
import { EXIT_OK, EXIT_UNHEALTHY, type Context } from './context.js'
import type { HealthStatus, ProbeResult, Target } from './probe.js'
import { clip, ms, paint, table } from './render.js'
import { spread, type Spread } from './stats.js'

export interface BackendStats extends Target {
  readonly requests: number
  readonly successes: number
  readonly latency: Spread | undefined
  readonly firstChunk: Spread | undefined
  readonly statuses: Partial<Record<HealthStatus, number>>
  readonly lastError: string | undefined
}

export function aggregate (rounds: readonly (readonly ProbeResult[])[]): BackendStats[] {
  const groups = new Map<string, ProbeResult[]>()
  for (const result of rounds.flat()) {
    const key = `${result.model}\u0000${result.backend}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [result])
    else group.push(result)
  }
  return [...groups.values()].map((group) => {
    const ok = group.filter((r) => r.status === 'healthy')
    const statuses: Partial<Record<HealthStatus, number>> = {}
    for (const r of group) statuses[r.status] = (statuses[r.status] ?? 0) + 1
    const failed = group.filter((r) => r.status !== 'healthy').at(-1)
    const first = group[0] as ProbeResult
    return {
      model: first.model,
      backend: first.backend,
      requests: group.length,
      successes: ok.length,
      latency: spread(ok.map((r) => r.latencyMs)),
      firstChunk: spread(ok.map((r) => r.firstChunkMs).filter((v): v is number => v !== null)),
      statuses,
      lastError: failed === undefined ? undefined : `${failed.status}${failed.httpStatus === null ? '' : ` (HTTP ${failed.httpStatus})`}: ${failed.detail}`
    }
  })
}

/** `12 / 15 / 16 / 22 ms`: one unit for the four, seconds once any reaches 10 s. */
function spreadText (s: Spread | undefined): string {
  if (s === undefined) return '-'
  const seconds = s.max >= 10_000
  const value = (v: number): string => seconds ? (v / 1000).toFixed(1) : String(Math.round(v))
  return [s.min, s.median, s.mean, s.max].map(value).join(' / ') + (seconds ? ' s' : ' ms')
}

function spreadJson (s: Spread | undefined): Record<string, number> | null {
  if (s === undefined) return null
  const round = (v: number): number => Math.round(v * 10) / 10
  return { min: round(s.min), median: round(s.median), mean: round(s.mean), max: round(s.max) }
}

function rate (s: BackendStats): number {
  return s.requests === 0 ? 0 : s.successes / s.requests
}

export function renderBenchmark (stats: readonly BackendStats[], streaming: boolean, color: boolean): string {
  const header = ['BACKEND', 'MODEL', 'SUCCESS', 'LATENCY min / median / mean / max', ...(streaming ? ['FIRST CHUNK min / median / mean / max'] : [])]
  const rows = stats.map((s) => {
    const success = `${s.successes}/${s.requests} (${Math.round(rate(s) * 100)}%)`
    return [
      s.backend,
      s.model,
      paint(color, s.successes === s.requests ? 'green' : s.successes === 0 ? 'red' : 'yellow', success),
      spreadText(s.latency),
      ...(streaming ? [spreadText(s.firstChunk)] : [])
    ]
  })
  const lines = [table(header, rows, color)]
  for (const s of stats) {
    if (s.lastError !== undefined) lines.push(`${s.backend} (${s.model}): ${s.requests - s.successes} failed; last: ${clip(s.lastError, 100)}`)
  }
  const ranked = stats.filter((s) => s.latency !== undefined).sort((a, b) => (a.latency as Spread).median - (b.latency as Spread).median)
  const fastest = ranked[0]
  if (ranked.length > 1 && fastest !== undefined) lines.push(`fastest: ${fastest.backend} (${fastest.model}), median ${ms(fastest.latency?.median)}`)
  return lines.join('\n')
}

export function benchmarkJson (ctx: Context, stats: readonly BackendStats[]): Record<string, unknown> {
  return {
    url: ctx.conn.url,
    time: new Date().toISOString(),
    rounds: ctx.options.rounds,
    streaming: ctx.options.streaming,
    results: stats.map((s) => ({
      backend: s.backend,
      model: s.model,
      requests: s.requests,
      successes: s.successes,
      success_rate: rate(s),
      latency_ms: spreadJson(s.latency),
      first_chunk_ms: spreadJson(s.firstChunk),
      statuses: s.statuses,
      last_error: s.lastError ?? null
    })),
    notes: ctx.discovery.notes
  }
}

export async function benchmarkCommand (ctx: Context): Promise<number> {
  const { options, output } = ctx
  const rounds: ProbeResult[][] = []
  for (let i = 1; i <= options.rounds; i++) {
    if (ctx.conn.signal?.aborted === true) break
    rounds.push(await runRound(ctx, true, `round ${i}/${options.rounds}`))
  }
  const stats = aggregate(rounds)
  if (options.json) output.out(JSON.stringify(benchmarkJson(ctx, stats), null, 2))
  else output.out(renderBenchmark(stats, options.streaming, output.color))
  const perfect = stats.length > 0 && stats.every((s) => s.successes === s.requests) && rounds.length === options.rounds
  return perfect ? EXIT_OK : EXIT_UNHEALTHY
}
