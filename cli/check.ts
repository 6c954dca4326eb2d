/**
 * `check`: one pinned request per backend, all at once unless --serial, and
 * a table of the outcomes. Exit status 0 only when every backend is healthy.
 */
import { settle } from './discover.js'
import { EXIT_OK, EXIT_UNHEALTHY, type Context } from './context.js'
import { probe, type ProbeResult, type ProbeSettings, type Target } from './probe.js'
import { startProgress } from './progress.js'
import { clip, ms, paintStatus, resultJson, summary, table } from './render.js'

export function settingsOf (ctx: Context): ProbeSettings {
  const { streaming, maxTokens, prompt } = ctx.options
  return { streaming, maxTokens, prompt }
}

/** One round over every target, results in the targets' order. */
export async function runRound (ctx: Context, serial: boolean, label = 'checking'): Promise<ProbeResult[]> {
  const { targets, exact } = ctx.discovery
  const settings = settingsOf(ctx)
  const progress = startProgress(ctx.output, label, targets.length)
  const one = async (target: Target): Promise<ProbeResult> => {
    const result = await probe(ctx.conn, target, settings)
    progress.tick()
    return result
  }
  try {
    let results: ProbeResult[]
    if (serial) {
      results = []
      for (const target of targets) {
        if (ctx.conn.signal?.aborted === true) break
        results.push(await one(target))
      }
    } else {
      results = await Promise.all(targets.map(one))
    }
    return settle(results, exact)
  } finally {
    progress.stop()
  }
}

export function allHealthy (results: readonly ProbeResult[]): boolean {
  return results.length > 0 && results.every((r) => r.status === 'healthy')
}

export function renderTable (results: readonly ProbeResult[], streaming: boolean, color: boolean): string {
  const header = ['BACKEND', 'MODEL', 'STATUS', 'HTTP', 'LATENCY', ...(streaming ? ['FIRST CHUNK'] : []), 'DETAIL']
  const rows = results.map((r) => [
    r.backend,
    r.model,
    paintStatus(color, r.status),
    r.httpStatus === null ? '-' : String(r.httpStatus),
    ms(r.latencyMs),
    ...(streaming ? [ms(r.firstChunkMs)] : []),
    clip(r.detail)
  ])
  return table(header, rows, color)
}

export function checkJson (ctx: Context, results: readonly ProbeResult[]): Record<string, unknown> {
  return {
    url: ctx.conn.url,
    time: new Date().toISOString(),
    streaming: ctx.options.streaming,
    healthy: results.filter((r) => r.status === 'healthy').length,
    total: results.length,
    results: results.map(resultJson),
    notes: ctx.discovery.notes
  }
}

export async function checkCommand (ctx: Context): Promise<number> {
  const results = await runRound(ctx, ctx.options.serial)
  const { output } = ctx
  if (ctx.options.json) {
    output.out(JSON.stringify(checkJson(ctx, results), null, 2))
  } else {
    output.out(renderTable(results, ctx.options.streaming, output.color))
    output.out(summary(results, output.color))
  }
  return allHealthy(results) ? EXIT_OK : EXIT_UNHEALTHY
}
