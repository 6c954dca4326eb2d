// berry's benchmark runner: `npm run bench` (full) or `npm run bench -- --quick`.
//
// Starts each server in a process of its own (the fake origin, a bare
// @fastify/http-proxy, berry from dist/, the Portkey gateway from npm, and a
// second origin for the direct path), runs autocannon against each in turn
// from this process, and prints one Markdown table plus the ratios the issue
// sets as goals. Raw results go to benchmarks/results/latest-<mode>.json.
//
// CPU pinning (2 cores, `taskset`): this process (autocannon) and the
// origin behind the proxies share core 0; the server under test (each proxy,
// or the origin of the direct path) has core 1 to itself. `--no-pin` turns it
// off; with fewer than two cores or no taskset it is off anyway.
//
// Flags: --quick (short runs, under 2 minutes with the build)
//        --only=json,sse,convert,streams,streams10k,soak   --rounds=N   --duration=S
//        --mass-streams=N   (streams10k: how many; default 10,000)
//        --soak-requests=N   --no-pin
//        --berry-dist=DIR   (another build of berry; results get its name)
//        --render=FILE      (re-print the tables of a results file)
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from './lib/args.mjs'
import { BENCH_TOKEN, MODEL } from './lib/constants.mjs'
import { selfSignedCert } from './lib/cert.mjs'
import { cpuMs } from './lib/cpu-usage.mjs'
import { fdLimits, startFdSampler } from './lib/fd-limit.mjs'
import { check, load } from './lib/load.mjs'
import { canPin, freePort, pinSelf, startNode, stopAll } from './lib/processes.mjs'
import { readPeakRssKb, rssTrend, startRssSampler } from './lib/rss-sampler.mjs'
import { runStreams } from './lib/streams.mjs'
import { formatConvert, formatMassStreams, formatRatios, formatScenario, formatSoak } from './lib/table.mjs'
import { measureTtfb } from './lib/ttfb.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const args = parseArgs(process.argv.slice(2))
const quick = args.quick === true
const mode = quick ? 'quick' : 'full'
const berryDist = typeof args['berry-dist'] === 'string' ? args['berry-dist'] : undefined
const berryArgs = (upstream) => [`--upstream=${upstream}`, ...(berryDist === undefined ? [] : [`--dist=${berryDist}`])]
// A partial run (`--only`) never overwrites the last complete results.
const resultName = `latest-${mode}${berryDist === undefined ? '' : `-${basename(berryDist)}`}${typeof args.only === 'string' ? `-only-${args.only.replaceAll(',', '-')}` : ''}`

const settings = {
  rounds: Number(args.rounds ?? (quick ? 1 : 6)),
  durationS: Number(args.duration ?? (quick ? 2 : 5)),
  warmupS: quick ? 1 : 3,
  streamsDurationS: quick ? 5 : 15,
  soakRequests: Number(args['soak-requests'] ?? (quick ? 5_000 : 100_000)),
  connections: 50,
  sseChunks: 20,
  manyStreams: 1000,
  manyStreamsChunks: 20,
  manyStreamsDelayMs: 50,
  // streams10k: a concurrency test, not a CPU test: 10,000 chunks a second
  // in all, which one core relays with room to spare.
  massStreams: Number(args['mass-streams'] ?? (quick ? 1000 : 10_000)),
  massStreamsChunks: quick ? 5 : 20,
  massStreamsDelayMs: 1000,
  massStreamsRampMs: quick ? 1000 : 10_000,
  // convert: streams one at a time for the time to first byte, per target.
  ttfbSamples: quick ? 50 : 300
}
const scenarios = typeof args.only === 'string' ? args.only.split(',') : ['json', 'sse', 'convert', 'streams', 'streams10k', 'soak']

const cores = availableParallelism()
const pin = args['no-pin'] !== true && canPin(cores)
const LOAD_CPU = 0
const SUT_CPU = pin ? 1 : undefined
const ORIGIN_CPU = pin ? LOAD_CPU : undefined

function machine () {
  let model = cpus()[0]?.model ?? 'unknown'
  try {
    const line = execFileSync('lscpu', { encoding: 'utf8' }).split('\n').find((l) => l.startsWith('Model name:'))
    if (line !== undefined) model = line.slice('Model name:'.length).trim()
  } catch {}
  return { nproc: cores, cpu: model, node: process.version, platform: `${process.platform} ${process.arch}`, date: new Date().toISOString() }
}

const PROMPT = { role: 'user', content: 'Say hello to the benchmark, please.' }
function requestBody (kind, extra = {}) {
  const body = { model: MODEL, messages: [PROMPT], max_tokens: 16, ...extra }
  if (kind !== 'json') body.stream = true
  return JSON.stringify(body)
}

/** The same request, addressed to each target the way its clients address it. */
function targetsFor (servers, kind) {
  const chat = '/v1/chat/completions'
  const plain = { 'content-type': 'application/json', authorization: 'Bearer sk-client-key' }
  const berryHeaders = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
  const streams = kind === 'streams' ? { bench_chunks: settings.manyStreamsChunks, bench_delay_ms: settings.manyStreamsDelayMs } : {}
  const portkeyConfig = JSON.stringify({
    strategy: { mode: 'loadbalance' },
    targets: [
      { provider: 'openai', api_key: 'sk-bench-alpha', custom_host: `${servers.origin.url}/v1`, weight: 3 },
      { provider: 'openai', api_key: 'sk-bench-beta', custom_host: `${servers.origin.url}/v1`, weight: 1 }
    ]
  })
  const all = {
    direct: { label: 'direct to origin', server: servers.direct, headers: plain, body: requestBody(kind, streams) },
    bare: { label: 'bare @fastify/http-proxy', server: servers.bare, headers: plain, body: requestBody(kind, streams) },
    berry: { label: 'berry, load-balanced', server: servers.berry, headers: berryHeaders, body: requestBody(kind, streams) },
    'berry-pinned': { label: 'berry, pinned backend', server: servers.berry, headers: berryHeaders, body: requestBody(kind, { ...streams, backend: 'bench_beta' }) },
    portkey: { label: 'Portkey gateway, load-balanced', server: servers.portkey, headers: { 'content-type': 'application/json', 'x-portkey-config': portkeyConfig }, body: requestBody(kind, streams) }
  }
  return Object.entries(all).map(([id, t]) => ({ id, ...t, url: t.server.url === undefined ? undefined : t.server.url + chat }))
}

function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Medians over the rounds; failures are summed. */
function combine (runs) {
  const latency = (key) => median(runs.map((r) => r.latencyMs[key]))
  return {
    rps: median(runs.map((r) => r.rps)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    latencyMs: { p50: latency('p50'), p97_5: latency('p97_5'), p99: latency('p99'), mean: latency('mean'), max: Math.max(...runs.map((r) => r.latencyMs.max)) },
    requests: runs.reduce((a, r) => a + r.requests, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    timeouts: runs.reduce((a, r) => a + r.timeouts, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    failures: runs.reduce((a, r) => a + r.failures, 0)
  }
}

function log (line) {
  process.stderr.write(`${line}\n`)
}

/** Runs one scenario over every target, rounds interleaved so drift hits all alike. */
async function runScenario (name, servers, { connections, durationS, rounds, sse, chunks, targets = targetsFor(servers, name) }) {
  const results = {}
  for (const target of targets) {
    if (target.server.failed !== undefined) {
      results[target.id] = { label: target.label, failed: target.server.failed }
      continue
    }
    const verdict = await check({ url: target.url, headers: target.headers, body: target.body, sse, chunks, content: target.content })
    if (!verdict.ok) {
      const detail = target.server.tail?.().filter((l) => /error/i.test(l)).at(-1)
      results[target.id] = { label: target.label, failed: verdict.reason + (detail === undefined ? '' : ` (server log: ${detail.trim().slice(0, 120)})`) }
      log(`  ${target.id}: FAILED ${results[target.id].failed}`)
      continue
    }
    results[target.id] = { label: target.label, runs: [] }
    if (settings.warmupS > 0 && rounds > 1) {
      await load({ url: target.url, headers: target.headers, body: target.body, connections, duration: settings.warmupS })
    }
  }
  for (let round = 0; round < rounds; round++) {
    // Every other round runs the targets in reverse, so no target always
    // follows the same neighbour (or the same moment of a noisy minute).
    const order = round % 2 === 0 ? targets : [...targets].reverse()
    for (const target of order) {
      const entry = results[target.id]
      if (entry.runs === undefined) continue
      if (rounds === 1 && settings.warmupS > 0) {
        await load({ url: target.url, headers: target.headers, body: target.body, connections, duration: settings.warmupS })
      }
      const cpuBefore = cpuMs(target.server.pid)
      const run = await load({ url: target.url, headers: target.headers, body: target.body, connections, duration: durationS })
      const cpuAfter = cpuMs(target.server.pid)
      run.cpuUsPerRequest = cpuBefore === undefined || cpuAfter === undefined || run.ok === 0 ? undefined : ((cpuAfter - cpuBefore) * 1000) / run.ok
      entry.runs.push(run)
      log(`  ${name} round ${round + 1}/${rounds} ${target.id}: ${Math.round(run.rps)} req/s, p99 ${run.latencyMs.p99} ms, ${Math.round(run.cpuUsPerRequest ?? NaN)} µs CPU/req, failures ${run.failures}`)
    }
  }
  for (const entry of Object.values(results)) {
    if (entry.runs !== undefined) entry.summary = combine(entry.runs)
  }
  return { connections, durationS, rounds, results }
}

/** The text every stream of the origin carries (`token0 token1 ...`). */
const streamText = (chunks) => Array.from({ length: chunks }, (_, i) => `token${i} `).join('')

/**
 * convert: the same 20-token stream through berry twice, from an OpenAI
 * backend relayed as it comes and from a Claude backend converted event by
 * event, in a berry of its own (`--protocols`). CPU per stream under load
 * (autocannon, as the other scenarios), then the time to the first byte one
 * stream at a time.
 */
async function runConvert (originUrl) {
  const berry = await startNode('berry (protocols)', join(here, 'berry-server.mjs'), { args: [...berryArgs(originUrl), '--protocols'], cpu: SUT_CPU })
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
    const url = berry.url + '/v1/chat/completions'
    const content = streamText(settings.sseChunks)
    const stream = (model) => JSON.stringify({ model, messages: [PROMPT], max_tokens: 16, stream: true })
    const targets = [
      { id: 'passthrough', label: 'berry, OpenAI backend (passed through)', server: berry, url, headers, body: stream('bench-passthrough'), content },
      { id: 'claude', label: 'berry, Claude backend (converted)', server: berry, url, headers, body: stream('bench-claude'), content }
    ]
    const scenario = await runScenario('convert', { berry }, { connections: settings.connections, durationS: settings.durationS, rounds: settings.rounds, sse: true, chunks: settings.sseChunks, targets })
    if (Object.values(scenario.results).every((r) => r.failed === undefined)) {
      scenario.ttfb = await measureTtfb(targets, { samples: settings.ttfbSamples })
      log(`  convert ttfb: ${Object.entries(scenario.ttfb).map(([id, t]) => `${id} p50 ${t.p50.toFixed(2)} ms, p90 ${t.p90.toFixed(2)} ms`).join('; ')}`)
    }
    return scenario
  } finally {
    await berry.stop()
  }
}

async function runSoak (originUrl) {
  // A fresh berry, so the curve starts at its first request.
  const berry = await startNode('berry (soak)', join(here, 'berry-server.mjs'), { args: berryArgs(originUrl), cpu: SUT_CPU })
  try {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
    // Each connection cycles through a balanced JSON request, a pinned one
    // and a 20-chunk stream, so every path's allocations are in the soak.
    const requests = [
      { method: 'POST', path: '/v1/chat/completions', headers, body: requestBody('json') },
      { method: 'POST', path: '/v1/chat/completions', headers, body: requestBody('json', { backend: 'bench_alpha' }) },
      { method: 'POST', path: '/v1/chat/completions', headers, body: requestBody('sse') }
    ]
    const sampler = startRssSampler(berry.pid)
    const run = await load({ url: berry.url, requests, connections: settings.connections, amount: settings.soakRequests })
    const samples = sampler.stop()
    return {
      requests: settings.soakRequests,
      run,
      ...soakFigures(samples.map((s) => [Number(s.t.toFixed(1)), Number(s.mb.toFixed(1))]))
    }
  } finally {
    await berry.stop()
  }
}

/**
 * RSS at the end of warm-up (the soak's first fifth: JIT, pools, heap
 * growth) and at the end, each the mean of a 10-sample window, since the
 * heap saws up and down by tens of MB between collections; and the
 * least-squares slope after warm-up.
 */
function soakFigures (samples) {
  const total = samples.at(-1)?.[0] ?? 0
  const warmupEndT = total * 0.2
  const after = samples.filter(([t]) => t >= warmupEndT)
  const mean = (points) => points.reduce((a, [, mb]) => a + mb, 0) / points.length
  const trend = rssTrend(samples.map(([t, mb]) => ({ t, mb })), warmupEndT)
  return {
    rssMb: {
      start: samples[0]?.[1],
      warmupEnd: mean(after.slice(0, 10)),
      end: mean(samples.slice(-10)),
      peak: Math.max(...samples.map(([, mb]) => mb))
    },
    warmupEndS: warmupEndT,
    slopeMbPerMin: trend.slopeMbPerMin,
    samples
  }
}

/**
 * streams10k: `massStreams` SSE streams held open at once through one
 * server, each `massStreamsChunks` chunks `massStreamsDelayMs` apart. Each
 * target is a fresh process (its peak RSS is this scenario's alone), started
 * after the last one stopped. Over HTTP/1.1 a proxy holds two file
 * descriptors per stream (client and upstream), over HTTP/2 upstream about
 * one: a target whose need exceeds the file limit runs as many streams as
 * fit, and says so.
 */
async function runMassStreams (origin) {
  const { massStreams: streams, massStreamsChunks: chunks, massStreamsDelayMs: delayMs, massStreamsRampMs: rampMs } = settings
  const limits = fdLimits()
  const fdLimit = limits?.soft ?? Infinity
  const tls = selfSignedCert()
  const tlsOrigin = tls.failed === undefined
    ? await startNode('origin (TLS, HTTP/2 and HTTP/1.1)', join(here, 'origin.mjs'), { args: [`--cert=${tls.cert}`, `--key=${tls.key}`], cpu: ORIGIN_CPU }).catch((err) => ({ failed: err.message }))
    : { failed: tls.failed }
  const tlsUrl = tlsOrigin.failed === undefined ? `https://127.0.0.1:${tlsOrigin.port}` : undefined
  const withCa = tls.failed === undefined ? [`--ca=${tls.cert}`] : []
  const dist = berryDist === undefined ? [] : [`--dist=${berryDist}`]
  const plain = { 'content-type': 'application/json', authorization: 'Bearer sk-client-key' }
  const berryHeaders = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` }
  const body = requestBody('streams10k', { bench_chunks: chunks, bench_delay_ms: delayMs })
  // Room for everything else a process holds (stdio, epoll, pipes, timers).
  const SPARE_FDS = 256
  const targets = [
    { id: 'direct', label: 'direct to origin (HTTP/1.1)', fdsPerStream: 1, headers: plain, start: () => startNode('origin (direct)', join(here, 'origin.mjs'), { cpu: SUT_CPU }) },
    { id: 'bare', label: 'bare @fastify/http-proxy, HTTP/1.1 upstream', fdsPerStream: 2, headers: plain, start: (n) => startNode('bare proxy', join(here, 'bare-proxy.mjs'), { args: [`--upstream=${origin.url}`, `--connections=${n}`], cpu: SUT_CPU }) },
    { id: 'berry-h1', label: 'berry, HTTP/1.1 upstream', fdsPerStream: 2, headers: berryHeaders, start: (n) => startNode('berry (HTTP/1.1)', join(here, 'berry-server.mjs'), { args: [`--upstream=${origin.url}`, `--connections=${n}`, ...dist], cpu: SUT_CPU }) },
    { id: 'berry-h1-tls', label: 'berry, HTTP/1.1 over TLS upstream', fdsPerStream: 2, headers: berryHeaders, needs: tlsOrigin.failed, start: (n) => startNode('berry (HTTP/1.1 over TLS)', join(here, 'berry-server.mjs'), { args: [`--upstream=${tlsUrl}`, `--connections=${n}`, ...withCa, ...dist], cpu: SUT_CPU }) },
    // connections_per_origin stays at its default: 100 streams share each HTTP/2 connection.
    { id: 'berry-h2', label: 'berry, HTTP/2 upstream (upstream_http2)', fdsPerStream: 1, headers: berryHeaders, needs: tlsOrigin.failed, start: () => startNode('berry (HTTP/2)', join(here, 'berry-server.mjs'), { args: [`--upstream=${tlsUrl}`, '--http2', ...withCa, ...dist], cpu: SUT_CPU }) }
  ]
  const results = {}
  for (const target of targets) {
    if (target.needs !== undefined) {
      results[target.id] = { label: target.label, failed: target.needs }
      continue
    }
    // As many streams as the file limit lets this target hold, in hundreds.
    const fit = Math.floor((fdLimit - SPARE_FDS) / target.fdsPerStream / 100) * 100
    const count = Math.min(streams, fit)
    let server
    try {
      server = await target.start(count)
    } catch (err) {
      results[target.id] = { label: target.label, failed: `did not start: ${err.message}` }
      continue
    }
    try {
      const url = `${server.url}/v1/chat/completions`
      // One stream first, as every scenario checks its target.
      const probe = await runStreams({ url, headers: target.headers, body, streams: 1, rampMs: 0, chunks, timeoutMs: (chunks * delayMs) + 30_000 })
      if (probe.ok !== 1) {
        results[target.id] = { label: target.label, failed: `the check stream failed: ${Object.keys(probe.failures).join(', ')}` }
        continue
      }
      const fds = startFdSampler(server.pid)
      // Where the CPU went: a proxy that falls behind, or the load generator
      // and the origin (sharing core 0) that cannot keep up.
      const originPid = target.id === 'direct' ? undefined : (target.id === 'bare' || target.id === 'berry-h1' ? origin.pid : tlsOrigin.pid)
      const sides = { runner: process.pid, origin: originPid }
      const sidesBefore = Object.fromEntries(Object.entries(sides).map(([k, pid]) => [k, pid === undefined ? undefined : cpuMs(pid)]))
      const cpuBefore = cpuMs(server.pid)
      const run = await runStreams({ url, headers: target.headers, body, streams: count, rampMs, chunks, timeoutMs: (chunks * delayMs) + 30_000 })
      const cpuAfter = cpuMs(server.pid)
      const coresUsed = (before, after) => before === undefined || after === undefined ? undefined : (after - before) / run.wallMs
      const cores = { server: coresUsed(cpuBefore, cpuAfter) }
      for (const [k, pid] of Object.entries(sides)) cores[k] = coresUsed(sidesBefore[k], pid === undefined ? undefined : cpuMs(pid))
      const peakFds = fds.stop()
      const peakRssKb = readPeakRssKb(server.pid)
      results[target.id] = {
        label: target.label,
        ...(count < streams ? { limitedBy: `file limit ${fdLimit}: ${target.fdsPerStream} per stream` } : {}),
        run,
        peakRssMb: peakRssKb === undefined ? undefined : peakRssKb / 1024,
        peakFds,
        cores,
        cpuUsPerChunk: cpuBefore === undefined || cpuAfter === undefined || run.ok === 0 ? undefined : ((cpuAfter - cpuBefore) * 1000) / (run.ok * chunks)
      }
      log(`  streams10k ${target.id}: ${run.ok}/${count} streams, p99 ${Math.round(run.durationMs.p99 ?? NaN)} ms, peak RSS ${Math.round(peakRssKb / 1024)} MB, ${peakFds} fds, ${Math.round(results[target.id].cpuUsPerChunk ?? NaN)} µs CPU/chunk, cores used: ${Object.entries(cores).map(([k, v]) => `${k} ${v?.toFixed(2)}`).join(', ')}${run.failed > 0 ? `, failures ${JSON.stringify(run.failures)}` : ''}`)
    } finally {
      await server.stop()
    }
  }
  if (tlsOrigin.stop !== undefined) await tlsOrigin.stop()
  return { streams, chunks, delayMs, rampMs, fdLimits: limits, results }
}

async function startPortkey (cpu) {
  try {
    const port = await freePort()
    const bin = join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js')
    return await startNode('portkey', bin, {
      nodeArgs: ['--import', join(here, 'lib/loopback-only.mjs')],
      args: [`--port=${port}`, '--headless'],
      port,
      cpu
    })
  } catch (err) {
    return { failed: `did not start: ${err.message}` }
  }
}

/** The tables for a results file (`--render=FILE`): re-prints without re-running. */
function tablesFor (out) {
  const tables = []
  const { settings: set, scenarios: sc } = out
  if (sc.json !== undefined) tables.push(formatScenario(`JSON chat completion, ${set.connections} connections`, sc.json))
  if (sc.sse !== undefined) tables.push(formatScenario(`SSE stream of ${set.sseChunks} chunks, ${set.connections} connections`, sc.sse))
  if (sc.convert !== undefined) tables.push(formatConvert(`One SSE stream of ${set.sseChunks} tokens, passed through and converted from Anthropic's Messages API, ${set.connections} connections`, sc.convert))
  if (sc.streams !== undefined) tables.push(formatScenario(`${set.manyStreams} concurrent SSE streams, ${set.manyStreamsChunks} chunks ${set.manyStreamsDelayMs} ms apart`, sc.streams))
  if (sc.streams10k !== undefined) tables.push(formatMassStreams(sc.streams10k))
  if (sc.soak !== undefined) tables.push(formatSoak(sc.soak))
  return tables
}

function headerFor (out) {
  const { machine: info, settings: set } = out
  return `Machine: ${info.nproc} cores (${info.cpu}), Node ${info.node}, ${info.platform}, ${info.date.slice(0, 16).replace('T', ' ')} UTC. ` +
    `Mode: ${out.mode} (${set.rounds} round(s) of ${set.durationS} s per target, medians). ` +
    `Pinning: ${out.pinning !== null ? 'autocannon + origin on CPU 0, server under test on CPU 1' : 'none'}.` +
    (out.berryDist === undefined ? '' : ` berry loaded from ${out.berryDist}.`)
}

async function render (file) {
  const out = JSON.parse(readFileSync(file, 'utf8'))
  if (out.scenarios.soak !== undefined) Object.assign(out.scenarios.soak, soakFigures(out.scenarios.soak.samples))
  const ratios = formatRatios(out.scenarios)
  process.stdout.write([headerFor(out), '', ...tablesFor(out), ratios.text].join('\n') + '\n')
}

async function main () {
  if (typeof args.render === 'string') return render(args.render)
  if (pin) pinSelf(LOAD_CPU)
  const info = machine()
  log(`berry benchmarks (${mode}): ${info.nproc} cores, ${info.cpu}, Node ${info.node}; pinning ${pin ? 'on (load generator + origin on CPU 0, server under test on CPU 1)' : 'off'}`)

  const origin = await startNode('origin', join(here, 'origin.mjs'), { args: [`--chunks=${settings.sseChunks}`], cpu: ORIGIN_CPU })
  const needsServers = scenarios.some((s) => s !== 'soak' && s !== 'streams10k' && s !== 'convert')
  const servers = { origin }
  if (needsServers) {
    servers.direct = await startNode('origin (direct)', join(here, 'origin.mjs'), { args: [`--chunks=${settings.sseChunks}`], cpu: SUT_CPU })
    servers.bare = await startNode('bare proxy', join(here, 'bare-proxy.mjs'), { args: [`--upstream=${origin.url}`], cpu: SUT_CPU })
    servers.berry = await startNode('berry', join(here, 'berry-server.mjs'), { args: berryArgs(origin.url), cpu: SUT_CPU })
    servers.portkey = await startPortkey(SUT_CPU)
  }

  const out = { mode, machine: info, pinning: pin ? { loadGenerator: LOAD_CPU, origin: LOAD_CPU, serverUnderTest: 1 } : null, settings, ...(berryDist === undefined ? {} : { berryDist }), scenarios: {} }
  for (const name of scenarios) {
    log(`scenario ${name}`)
    if (name === 'json') {
      out.scenarios.json = await runScenario('json', servers, { connections: settings.connections, durationS: settings.durationS, rounds: settings.rounds, sse: false })
    } else if (name === 'sse') {
      out.scenarios.sse = await runScenario('sse', servers, { connections: settings.connections, durationS: settings.durationS, rounds: settings.rounds, sse: true, chunks: settings.sseChunks })
    } else if (name === 'convert') {
      out.scenarios.convert = await runConvert(origin.url)
    } else if (name === 'streams') {
      out.scenarios.streams = await runScenario('streams', servers, { connections: settings.manyStreams, durationS: settings.streamsDurationS, rounds: 1, sse: true, chunks: settings.manyStreamsChunks })
    } else if (name === 'streams10k') {
      out.scenarios.streams10k = await runMassStreams(origin)
    } else if (name === 'soak') {
      out.scenarios.soak = await runSoak(origin.url)
    } else {
      throw new Error(`unknown scenario '${name}' (json, sse, convert, streams, streams10k, soak)`)
    }
  }
  await stopAll()

  const ratios = formatRatios(out.scenarios)
  out.goals = ratios.goals
  const text = [headerFor(out), '', ...tablesFor(out), ratios.text].join('\n')
  process.stdout.write(`\n${text}\n`)

  mkdirSync(join(here, 'results'), { recursive: true })
  const file = join(here, 'results', `${resultName}.json`)
  writeFileSync(file, JSON.stringify(out, null, 1) + '\n')
  writeFileSync(join(here, 'results', `${resultName}.md`), text + '\n')
  log(`raw results: ${file}`)
}

main().catch(async (err) => {
  process.stderr.write(`benchmark failed: ${err.stack ?? err}\n`)
  await stopAll()
  process.exit(1)
})
