/**
 * Steady client load for the cluster tests: loops of chat requests, each
 * checked end to end (a JSON answer's text, a stream's every chunk and its
 * `[DONE]`), failures described rather than thrown, so a test can say at the
 * end how many of how many went wrong, and which.
 */
import { TOKEN } from './berry.js'
import { json, sse, type Behaviour } from './fake-upstream.js'

export const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
/** Chunks in each stream `answer` sends. */
export const SSE_CHUNKS = 6

export interface Tally { json: number, sse: number, failures: string[] }

export const newTally = (): Tally => ({ json: 0, sse: 0, failures: [] })

/** JSON or, for `"stream": true`, a stream of SSE_CHUNKS chunks 100 ms apart. */
export const answer: Behaviour = (req, res, received) => {
  if (received.json?.stream === true) sse({ chunks: SSE_CHUNKS, delayMs: 100 })(req, res, received)
  else json()(req, res, received)
}

/** One JSON request, checked end to end. */
export async function jsonRequest (url: string, tally: Tally, n: number): Promise<void> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: `json ${n}` }] }) })
    const text = await res.text()
    if (res.status !== 200 || JSON.parse(text).choices?.[0]?.message?.content !== 'pong') tally.failures.push(`JSON ${n}: ${res.status} ${text.slice(0, 200)}`)
    else tally.json++
  } catch (err) {
    tally.failures.push(`JSON ${n}: ${String(err)}`)
  }
}

/** One stream, checked: every chunk, then [DONE], no error event. */
export async function sseRequest (url: string, tally: Tally, n: number): Promise<void> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: `sse ${n}` }] }) })
    const text = await res.text()
    const chunks = text.match(/"content":"c\d+"/g)?.length ?? 0
    if (res.status !== 200 || chunks !== SSE_CHUNKS || !text.endsWith('data: [DONE]\n\n') || text.includes('"error"')) {
      tally.failures.push(`SSE ${n}: ${res.status}, ${chunks} chunks: ${text.slice(-200)}`)
    } else {
      tally.sse++
    }
  } catch (err) {
    tally.failures.push(`SSE ${n}: ${String(err)}`)
  }
}

/** `workers` loops of `request` until `stop()`; resolves when the last one ends. */
export function steadyLoad (workers: number, request: (n: number) => Promise<void>): { stop: () => Promise<void> } {
  const state = { running: true, n: 0 }
  const loops = Array.from({ length: workers }, async () => {
    while (state.running) await request(state.n++)
  })
  return {
    async stop () {
      state.running = false
      await Promise.all(loops)
    }
  }
}
