/**
 * `monitor`: a check every --interval seconds, one dated summary line per
 * round, and an alert on each state change (healthy -> not healthy and
 * back). Every backend starts out presumed healthy, so one that is down when
 * monitoring begins is reported once. An alert the webhook did not take is
 * tried again next round while the new state lasts. Ctrl-C (the
 * connection's signal) stops it between or during rounds.
 */
import { alertText, postAlert, webhookHost, type Change } from './alert.js'
import { allHealthy, runRound } from './check.js'
import { EXIT_OK, EXIT_UNHEALTHY, type Context } from './context.js'
import type { ProbeResult } from './probe.js'
import { clip, labeler, paint, resultJson, summary } from './render.js'

function keyOf (r: { model: string, backend: string }): string {
  return `${r.model}\u0000${r.backend}`
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep (ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true || ms <= 0) {
      resolve()
      return
    }
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** `2026-11-22 04:10:00Z` */
function stamp (date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

interface ChangeReport {
  readonly change: Change
  /** undefined: no webhook; true: posted; else the failure. */
  readonly alert: true | string | undefined
}

export async function monitorCommand (ctx: Context): Promise<number> {
  const { options, output, conn } = ctx
  const { webhook } = options
  const signal = conn.signal
  // A function, not a narrowed property: the signal changes across awaits.
  const stopped = (): boolean => signal?.aborted === true
  // The last state reported (alerted), per target.
  const known = new Map<string, boolean>()
  const label = labeler(ctx.discovery.targets)
  let rounds = 0
  let last: ProbeResult[] = []

  while (!stopped()) {
    const startedAt = Date.now()
    const results = await runRound(ctx, options.serial, `round ${rounds + 1}`)
    if (stopped()) break
    rounds++
    last = results

    const reports: ChangeReport[] = []
    for (const result of results) {
      const healthy = result.status === 'healthy'
      if ((known.get(keyOf(result)) ?? true) === healthy) continue
      const change = { result, healthy }
      let alert: ChangeReport['alert']
      if (webhook !== undefined) {
        const failure = await postAlert(conn, webhook, alertText(change, conn.url))
        alert = failure ?? true
      }
      if (alert === undefined || alert === true) known.set(keyOf(result), healthy)
      reports.push({ change, alert })
    }

    const now = new Date()
    if (options.json) {
      output.out(JSON.stringify({
        time: now.toISOString(),
        round: rounds,
        healthy: results.filter((r) => r.status === 'healthy').length,
        total: results.length,
        unhealthy: results.filter((r) => r.status !== 'healthy').map(label),
        changes: reports.map(({ change, alert }) => ({
          backend: change.result.backend,
          model: change.result.model,
          to: change.healthy ? 'healthy' : change.result.status,
          alert: alert === undefined ? null : alert === true ? 'sent' : `failed: ${alert}`
        })),
        results: results.map(resultJson)
      }))
    } else {
      output.out(`${paint(output.color, 'dim', stamp(now))}  ${summary(results, output.color)}`)
      for (const { change, alert } of reports) {
        const { result } = change
        const what = change.healthy ? paint(output.color, 'green', 'recovered') : `${paint(output.color, 'red', result.status)}: ${clip(result.detail)}`
        output.out(`  ${label(result)} ${what}`)
        if (alert === true) output.out(`  alert sent to ${webhookHost(webhook as string)}`)
      }
    }
    for (const { alert } of reports) {
      if (typeof alert === 'string') output.err(`warning: alert to ${webhookHost(webhook as string)} failed (${alert}); it is tried again next round`)
    }

    if (options.count !== undefined && rounds >= options.count) break
    await sleep(options.intervalMs - (Date.now() - startedAt), signal)
  }

  if (stopped()) {
    output.err(`stopped after ${rounds} round${rounds === 1 ? '' : 's'}`)
    return EXIT_OK
  }
  return allHealthy(last) ? EXIT_OK : EXIT_UNHEALTHY
}
