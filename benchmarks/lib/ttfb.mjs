// Time to first token: from writing a streamed request to the first byte of
// its body, one request at a time (no queueing in the figure), the targets
// taking turns so drift hits them alike.
import { Agent, request } from 'node:http'

/** One streamed request, read to its end; resolves with ms to the first body byte. */
function once (agent, url, headers, body) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    let firstByteAt
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume()
        reject(new Error(`HTTP ${res.statusCode}`))
        return
      }
      res.on('data', () => { firstByteAt ??= performance.now() })
      res.on('end', () => firstByteAt === undefined ? reject(new Error('an empty body')) : resolve(firstByteAt - startedAt))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

function percentile (sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

/**
 * `samples` streams per target after `warmup` unmeasured ones, each target on
 * a keep-alive connection of its own. Returns `{ [id]: { p50, p90, samples } }` in ms.
 */
export async function measureTtfb (targets, { samples, warmup = 20 }) {
  const agents = new Map(targets.map((t) => [t.id, new Agent({ keepAlive: true, maxSockets: 1 })]))
  const times = new Map(targets.map((t) => [t.id, []]))
  try {
    for (let i = 0; i < warmup + samples; i++) {
      const order = i % 2 === 0 ? targets : [...targets].reverse()
      for (const target of order) {
        const ms = await once(agents.get(target.id), target.url, target.headers, target.body)
        if (i >= warmup) times.get(target.id).push(ms)
      }
    }
  } finally {
    for (const agent of agents.values()) agent.destroy()
  }
  const out = {}
  for (const [id, list] of times) {
    const sorted = [...list].sort((a, b) => a - b)
    out[id] = { p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), samples: sorted.length }
  }
  return out
}
