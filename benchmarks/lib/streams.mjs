// Many concurrent SSE streams, each on a connection of its own, each
// checked to the end: every chunk, `[DONE]` last, no error event. autocannon
// counts a stream as done when its bytes stop, and says nothing of what
// they were; this client reads each stream as an SDK would.
//
// Streams start evenly over `rampMs` (thousands of connections opened in
// the same millisecond would measure the accept queue, not the proxy), and
// each stream's duration runs from its own start to its last byte.
import { Agent, request } from 'node:http'

function percentile (sorted, p) {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** One stream: resolves with its duration and outcome, never rejects. */
function oneStream (url, headers, body, agent, chunks, timeoutMs) {
  const startedAt = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const done = (failure) => {
      if (settled) return
      settled = true
      resolve({ ms: performance.now() - startedAt, failure })
    }
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        done(`HTTP ${res.statusCode}`)
        return
      }
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => {
        const events = text.split('\n\n').filter((e) => e.startsWith('data: '))
        if (text.includes('"error"')) done('error event')
        else if (events.at(-1) !== 'data: [DONE]') done('no [DONE]')
        else if (events.length !== chunks + 1) done(`${events.length - 1} of ${chunks} chunks`)
        else done(undefined)
      })
      res.on('error', (err) => done(err.code ?? err.message))
    })
    req.on('timeout', () => { req.destroy(new Error('client timeout')) })
    req.on('error', (err) => done(err.code ?? err.message))
    req.end(body)
  })
}

/**
 * Runs `streams` streams against `url`, started evenly over `rampMs`, and
 * summarises: durations (p50, p99, max), failures by reason, and when the
 * ramp ended and the last stream did.
 */
export async function runStreams ({ url, headers, body, streams, rampMs, chunks, timeoutMs = 60_000 }) {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  const started = performance.now()
  const runs = []
  const batches = Math.max(1, Math.ceil(rampMs / 10))
  const perBatch = Math.ceil(streams / batches)
  for (let i = 0; i < streams; i += perBatch) {
    for (let j = i; j < Math.min(streams, i + perBatch); j++) runs.push(oneStream(url, headers, body, agent, chunks, timeoutMs))
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const rampEndedMs = performance.now() - started
  const results = await Promise.all(runs)
  agent.destroy()
  const failures = {}
  const durations = []
  for (const r of results) {
    if (r.failure === undefined) durations.push(r.ms)
    else failures[r.failure] = (failures[r.failure] ?? 0) + 1
  }
  durations.sort((a, b) => a - b)
  return {
    streams,
    ok: durations.length,
    failed: streams - durations.length,
    failures,
    durationMs: { p50: percentile(durations, 50), p99: percentile(durations, 99), max: durations.at(-1) },
    rampEndedMs,
    wallMs: performance.now() - started
  }
}
