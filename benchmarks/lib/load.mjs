// One autocannon run, summarised, and the one-request check made before it.
import autocannon from 'autocannon'

/** Runs autocannon and keeps what the table and the results file need. */
export async function load ({ url, headers, body, requests, connections, duration, amount, timeout = 30 }) {
  const result = await autocannon({
    url,
    method: 'POST',
    headers,
    body,
    // A sequence of requests each connection cycles through (the soak's mix).
    ...(requests === undefined ? {} : { requests }),
    connections,
    timeout,
    ...(amount === undefined ? { duration } : { amount }),
    // The runner prints its own table.
    renderProgressBar: false,
    renderResultsTable: false,
    renderLatencyTable: false
  })
  const ok = result['2xx']
  return {
    rps: ok / result.duration,
    requests: result.requests.total,
    ok,
    durationS: result.duration,
    latencyMs: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      mean: result.latency.average,
      max: result.latency.max
    },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    failures: result.errors + result.timeouts + result.non2xx,
    throughputMBps: result.throughput.average / 1e6
  }
}

/**
 * One request with the scenario's exact headers and body: a target that
 * answers it wrongly is reported as failed with the reason, not measured.
 */
export async function check ({ url, headers, body, sse, chunks, content }) {
  let response
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) })
  } catch (err) {
    return { ok: false, reason: `request failed: ${err.cause?.code ?? err.message}` }
  }
  const text = await response.text().catch((err) => `(body unreadable: ${err.message})`)
  if (response.status !== 200) return { ok: false, reason: `HTTP ${response.status}: ${text.slice(0, 160)}` }
  if (!sse) {
    try {
      if (!Array.isArray(JSON.parse(text).choices)) return { ok: false, reason: 'no choices in the JSON body' }
    } catch {
      return { ok: false, reason: `not JSON: ${text.slice(0, 80)}` }
    }
    return { ok: true }
  }
  const events = text.split('\n\n').filter((e) => e.startsWith('data: '))
  if (events.at(-1) !== 'data: [DONE]') return { ok: false, reason: `stream did not end with [DONE]: ${text.slice(-120)}` }
  // A converted stream has chunks of its own (the role, the finish reason):
  // what must arrive whole is the text.
  if (content !== undefined) {
    const got = events.slice(0, -1).map((e) => JSON.parse(e.slice('data: '.length)).choices?.[0]?.delta?.content ?? '').join('')
    return got === content ? { ok: true } : { ok: false, reason: `expected the text ${JSON.stringify(content.slice(0, 40))}..., got ${JSON.stringify(got.slice(0, 80))}` }
  }
  if (events.length !== chunks + 1) return { ok: false, reason: `expected ${chunks} chunks, got ${events.length - 1}` }
  return { ok: true }
}
