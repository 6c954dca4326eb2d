// Markdown tables for the runner's output (pasted as is into docs/benchmarks.md).

const fmt = (n, digits = 0) => n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const ms = (n) => n === undefined ? '–' : fmt(n, n < 10 ? 2 : 1)

export function formatScenario (title, scenario) {
  const lines = [
    `**${title}**`,
    '',
    '| target | req/s | p50 ms | p97.5 ms | p99 ms | errors | server CPU µs/req |',
    '|---|---:|---:|---:|---:|---:|---:|'
  ]
  for (const entry of Object.values(scenario.results)) {
    if (entry.failed !== undefined) {
      lines.push(`| ${entry.label} | failed: ${entry.failed.replaceAll('|', '/')} | | | | | |`)
      continue
    }
    const s = entry.summary
    const errors = s.failures === 0 ? '0' : `${fmt(s.failures)} (${s.errors} err, ${s.timeouts} timeout, ${s.non2xx} non-2xx)`
    lines.push(`| ${entry.label} | ${fmt(s.rps)} | ${ms(s.latencyMs.p50)} | ${ms(s.latencyMs.p97_5)} | ${ms(s.latencyMs.p99)} | ${errors} | ${fmt(s.cpuUsPerRequest)} |`)
  }
  lines.push('')
  return lines.join('\n')
}

/** Issue 13's goals for a converted stream beside the same stream passed through. */
export const CONVERT_GOALS = { cpuRatio: 1.3, ttfbGapMs: 1 }

/** The convert scenario: the load table, then time to first byte one stream at a time. */
export function formatConvert (title, scenario) {
  const lines = [formatScenario(title, scenario)]
  if (scenario.ttfb !== undefined) {
    lines.push('Time to first byte, one stream at a time:', '', '| target | p50 ms | p90 ms | streams |', '|---|---:|---:|---:|')
    for (const [id, t] of Object.entries(scenario.ttfb)) {
      lines.push(`| ${scenario.results[id]?.label ?? id} | ${fmt(t.p50, 2)} | ${fmt(t.p90, 2)} | ${fmt(t.samples)} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/** The convert scenario's two goals, with the figures they are judged on. */
function convertGoals (convert, goals) {
  const lines = []
  const pass = convert.results.passthrough?.runs
  const claude = convert.results.claude?.runs
  if (pass === undefined || claude === undefined) {
    lines.push(`Claude conversion: not measured (${convert.results.claude?.failed ?? convert.results.passthrough?.failed ?? 'not run'})`)
    return lines
  }
  // Paired per round, as the other ratios.
  const cpu = median(claude.map((run, i) => pass[i] === undefined ? NaN : run.cpuUsPerRequest / pass[i].cpuUsPerRequest))
  const cpuOk = cpu !== undefined && cpu <= CONVERT_GOALS.cpuRatio
  goals[`convert: CPU per stream, Claude conversion ÷ passthrough ≤ ${CONVERT_GOALS.cpuRatio}`] = { value: cpu, pass: cpuOk }
  lines.push(`CPU per stream, Claude conversion ÷ passthrough: ${fmt(cpu, 2)} (goal ≤ ${CONVERT_GOALS.cpuRatio})${ok(cpuOk)}`)
  const t = convert.ttfb
  if (t?.claude !== undefined && t.passthrough !== undefined) {
    const gap = t.claude.p50 - t.passthrough.p50
    const gapOk = gap <= CONVERT_GOALS.ttfbGapMs
    goals[`convert: time to first byte within ${CONVERT_GOALS.ttfbGapMs} ms of the passthrough's (p50)`] = { value: gap, pass: gapOk }
    lines.push(`Time to first byte, Claude conversion − passthrough (p50): ${gap >= 0 ? '+' : ''}${fmt(gap, 2)} ms (goal ≤ ${CONVERT_GOALS.ttfbGapMs} ms)${ok(gapOk)}`)
  }
  return lines
}

/** The issue's goals for the 10,000-stream scenario. */
export const MASS_GOALS = { p99OverOriginMs: 1000, peakRssMb: 1536 }

const sec = (v) => v === undefined ? '–' : fmt(v / 1000, 2)

export function formatMassStreams (mass) {
  const lines = [
    `**${fmt(mass.streams)} concurrent SSE streams, ${mass.chunks} chunks ${fmt(mass.delayMs)} ms apart (${fmt(mass.chunks * mass.delayMs / 1000)} s at the origin), started over ${fmt(mass.rampMs / 1000)} s, each on a connection of its own**`,
    '',
    `Each target is a fresh process. File limit: ${mass.fdLimits === undefined ? 'unknown' : `${fmt(mass.fdLimits.soft)} (hard ${fmt(mass.fdLimits.hard)})`}.`,
    '',
    '| target | streams | completed | failed | p50 s | p99 s | max s | peak RSS MB | peak open fds | server CPU µs/chunk | cores used: server / origin / load generator |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const entry of Object.values(mass.results)) {
    if (entry.failed !== undefined) {
      lines.push(`| ${entry.label} | failed: ${entry.failed.replaceAll('|', '/')} | | | | | | | | | |`)
      continue
    }
    const r = entry.run
    const cores = entry.cores === undefined ? '–' : [entry.cores.server, entry.cores.origin, entry.cores.runner].map((c) => fmt(c, 2)).join(' / ')
    const failed = r.failed === 0 ? '0' : `${fmt(r.failed)} (${Object.entries(r.failures).map(([why, n]) => `${fmt(n)} ${why}`).join(', ')})`
    const count = `${fmt(r.streams)}${entry.limitedBy === undefined ? '' : ` (${entry.limitedBy})`}`
    lines.push(`| ${entry.label} | ${count} | ${fmt(r.ok)} | ${failed} | ${sec(r.durationMs.p50)} | ${sec(r.durationMs.p99)} | ${sec(r.durationMs.max)} | ${fmt(entry.peakRssMb)} | ${fmt(entry.peakFds)} | ${fmt(entry.cpuUsPerChunk, 1)} | ${cores} |`)
  }
  lines.push('')
  return lines.join('\n')
}

/** Growth after warm-up within this many MB (or 5 %) counts as flat. */
export const FLAT_RSS_MB = 5

/** Fewer requests than this never get past V8's heap growing to its working size. */
export const SOAK_MIN_REQUESTS = 50_000

export function soakVerdict (soak) {
  const growth = soak.rssMb.end - soak.rssMb.warmupEnd
  if (soak.requests < SOAK_MIN_REQUESTS) return { growthMb: growth, flat: undefined }
  return { growthMb: growth, flat: growth <= Math.max(FLAT_RSS_MB, soak.rssMb.warmupEnd * 0.05) }
}

function verdictText (flat) {
  return flat === undefined ? `too short for a verdict, < ${fmt(SOAK_MIN_REQUESTS)} requests` : flat ? 'flat' : 'GROWING'
}

export function formatSoak (soak) {
  const { growthMb, flat } = soakVerdict(soak)
  const s = soak.run
  return [
    `**Soak: ${fmt(soak.requests)} requests through berry (balanced JSON, pinned JSON and 20-chunk SSE in turn), 50 connections, RSS sampled every second**`,
    '',
    'RSS after warm-up and at the end are means over 10 samples (10 s): the heap saws up and down between collections.',
    '',
    '| req/s | p99 ms | errors | RSS start | RSS after warm-up | RSS at the end | peak | growth after warm-up | slope after warm-up |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${fmt(s.rps)} | ${ms(s.latencyMs.p99)} | ${s.failures} | ${fmt(soak.rssMb.start, 1)} MB | ${fmt(soak.rssMb.warmupEnd, 1)} MB (from ${fmt(soak.warmupEndS, 0)} s) | ${fmt(soak.rssMb.end, 1)} MB | ${fmt(soak.rssMb.peak, 1)} MB | ${growthMb >= 0 ? '+' : ''}${fmt(growthMb, 1)} MB (${verdictText(flat)}) | ${fmt(soak.slopeMbPerMin, 2)} MB/min |`,
    ''
  ].join('\n')
}

function ok (pass) {
  return pass === undefined ? '' : pass ? ' ✓' : ' ✗'
}

/** The issue's goals, as ratios measured side by side in this run. */
export function formatRatios (scenarios) {
  const goals = {}
  const rows = []
  const kinds = ['json', 'sse'].filter((k) => scenarios[k] !== undefined)
  const get = (kind, id) => scenarios[kind].results[id]?.summary
  const why = (kind, id) => scenarios[kind].results[id]?.failed

  const ratioRow = (label, goal, compute) => {
    const cells = kinds.map((kind) => {
      const { value, pass, text } = compute(kind)
      if (pass !== undefined) goals[`${kind}: ${label}`] = { value, pass }
      return text ?? `${value === undefined ? '–' : fmt(value, 2)}${ok(pass)}`
    })
    rows.push(`| ${label} | ${cells.join(' | ')} | ${goal} |`)
  }
  // Ratios pair each round's runs (taken seconds apart) and keep the median,
  // so a noisy neighbour's burst moves one pair, not the whole comparison.
  const paired = (kind, a, b, of) => {
    const x = scenarios[kind].results[a]?.runs
    const y = scenarios[kind].results[b]?.runs
    if (x === undefined || y === undefined) return undefined
    return median(x.map((run, i) => y[i] === undefined ? NaN : of(run, y[i])))
  }
  const ratio = (a, b, min) => (kind) => {
    const value = paired(kind, a, b, (x, y) => x.rps / y.rps)
    if (value === undefined) return { text: `n/a (${why(kind, a) ?? why(kind, b) ?? 'not run'})`.slice(0, 80) }
    return { value, pass: value >= min }
  }
  const cpuRatio = (a, b) => (kind) => {
    const value = paired(kind, a, b, (x, y) => y.cpuUsPerRequest / x.cpuUsPerRequest)
    return value === undefined ? { text: 'n/a' } : { value }
  }
  const p99Gap = (a) => (kind) => {
    const value = paired(kind, a, 'bare', (x, y) => x.latencyMs.p99 - y.latencyMs.p99)
    if (value === undefined) return { text: 'n/a' }
    return { value, pass: value <= 2, text: `${value >= 0 ? '+' : ''}${fmt(value, 2)} ms${ok(value <= 2)}` }
  }
  const vsPortkey = (kind) => {
    const x = get(kind, 'berry')
    const y = get(kind, 'portkey')
    if (x === undefined) return { text: 'n/a' }
    if (y === undefined) return { text: `Portkey failed (${(why(kind, 'portkey') ?? 'not run').split(':')[0]})` }
    const value = paired(kind, 'berry', 'portkey', (a, b) => a.rps / b.rps)
    const pass = value >= 7 && x.latencyMs.p99 < y.latencyMs.p99
    return { value, pass, text: `${fmt(value, 1)}x, p99 ${ms(x.latencyMs.p99)} vs ${ms(y.latencyMs.p99)} ms${ok(pass)}` }
  }

  if (kinds.length > 0) {
    rows.push(`| ratio | ${kinds.map((k) => k.toUpperCase()).join(' | ')} | goal |`)
    rows.push(`|---|${kinds.map(() => '---:').join('|')}|---|`)
    ratioRow('berry / bare (load-balanced)', '≥ 1.00', ratio('berry', 'bare', 1))
    ratioRow('berry / bare (pinned)', '≥ 1.00', ratio('berry-pinned', 'bare', 1))
    ratioRow('berry / Portkey (both load-balanced)', '≥ 7x, lower p99', vsPortkey)
    ratioRow('berry / direct to origin', '≥ 0.30', ratio('berry', 'direct', 0.3))
    ratioRow('CPU per request, bare ÷ berry (load-balanced)', '(> 1: berry cheaper)', cpuRatio('berry', 'bare'))
    ratioRow('CPU per request, bare ÷ berry (pinned)', '(> 1: berry cheaper)', cpuRatio('berry-pinned', 'bare'))
    ratioRow('p99 berry − bare (load-balanced)', '≤ +2 ms', p99Gap('berry'))
    ratioRow('p99 berry − bare (pinned)', '≤ +2 ms', p99Gap('berry-pinned'))
  }
  const lines = kinds.length > 0 ? ['**Ratios (same run)**', '', ...rows, ''] : []

  if (scenarios.convert !== undefined) lines.push(...convertGoals(scenarios.convert, goals), '')
  const streams = scenarios.streams?.results.berry
  if (streams !== undefined) {
    const pass = streams.summary !== undefined && streams.summary.failures === 0 && streams.summary.requests > 0
    goals['streams: 1,000 concurrent streams through berry, no error'] = { value: streams.summary?.failures, pass }
    lines.push(`1,000 concurrent streams through berry: ${streams.summary === undefined ? `failed: ${streams.failed}` : `${fmt(streams.summary.requests)} streams, ${streams.summary.failures} errors`}${ok(pass)}`)
  }
  const mass = scenarios.streams10k
  if (mass !== undefined) {
    const originMs = mass.chunks * mass.delayMs
    const bare = mass.results.bare
    for (const id of ['berry-h2', 'berry-h1']) {
      const entry = mass.results[id]
      if (entry?.run === undefined) continue
      const { run } = entry
      const full = entry.limitedBy === undefined
      const clean = run.failed === 0
      const p99Gap = run.durationMs.p99 === undefined ? undefined : run.durationMs.p99 - originMs
      const timely = p99Gap !== undefined && p99Gap <= MASS_GOALS.p99OverOriginMs
      const small = entry.peakRssMb !== undefined && entry.peakRssMb < MASS_GOALS.peakRssMb
      if (full) {
        goals[`streams10k (${id}): ${fmt(mass.streams)} streams, no error`] = { value: run.failed, pass: clean }
        goals[`streams10k (${id}): p99 within ${MASS_GOALS.p99OverOriginMs / 1000} s of the origin`] = { value: p99Gap, pass: timely }
        goals[`streams10k (${id}): peak RSS under ${MASS_GOALS.peakRssMb / 1024} GB`] = { value: entry.peakRssMb, pass: small }
      }
      const cpu = bare?.cpuUsPerChunk === undefined || entry.cpuUsPerChunk === undefined ? '' : `, CPU per chunk ${fmt(entry.cpuUsPerChunk, 1)} µs vs the bare proxy's ${fmt(bare.cpuUsPerChunk, 1)} µs (${fmt(entry.cpuUsPerChunk / bare.cpuUsPerChunk, 2)}x)`
      lines.push(`${entry.label}: ${fmt(run.ok)} of ${fmt(run.streams)} streams${full ? '' : ` (${entry.limitedBy})`}, ${fmt(run.failed)} errors${full ? ok(clean) : ''}; p99 ${sec(run.durationMs.p99)} s against the origin's ${fmt(originMs / 1000)} s${full ? ok(timely) : ''}; peak RSS ${fmt(entry.peakRssMb)} MB${full ? ok(small) : ''}${cpu}`)
    }
  }
  if (scenarios.soak !== undefined) {
    const { growthMb, flat } = soakVerdict(scenarios.soak)
    if (flat !== undefined) goals['soak: RSS flat after warm-up'] = { value: growthMb, pass: flat }
    lines.push(`RSS over the soak: ${fmt(scenarios.soak.rssMb.warmupEnd, 1)} MB after warm-up, ${fmt(scenarios.soak.rssMb.end, 1)} MB at the end${flat === undefined ? ` (${verdictText(flat)})` : ok(flat)}`)
  }
  return { text: lines.join('\n') + '\n', goals }
}
