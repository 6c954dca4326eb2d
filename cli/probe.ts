/**
 * One pinned request, the spec's health check:
 *   {"model", "messages": [{"role": "user", "content": "ping"}], "backend", "max_tokens": 1}
 * and what its answer says about the backend.
 *
 *   healthy    200 and a real completion (or a stream without an error event)
 *   timeout    no answer within --timeout, or berry's 504
 *   unhealthy  the backend failed: berry's 5xx, or the upstream's own error passed through
 *   error      the check itself could not run: berry unreachable, token or
 *              permission refused, the backend not configured for the model
 */
import { deadline, describeError, endpoint, errorOf, headers, type Connection } from './client.js'
import { readEventStream } from './sse.js'

export type HealthStatus = 'healthy' | 'unhealthy' | 'timeout' | 'error'

export interface Target {
  /** The public model name to pin with. */
  readonly model: string
  /** The provider id. */
  readonly backend: string
}

export interface ProbeSettings {
  readonly streaming: boolean
  readonly maxTokens: number
  readonly prompt: string
}

export interface ProbeResult extends Target {
  readonly status: HealthStatus
  readonly httpStatus: number | null
  readonly latencyMs: number
  /** Streaming only: time to the first data event. */
  readonly firstChunkMs: number | null
  /** The first content or SSE chunk, or what went wrong. */
  readonly detail: string
  /** berry's error code, when it sent one. */
  readonly code: string | null
}

/** berry's own refusals of the check (as opposed to a backend's failure). */
function isSetupError (status: number, code: string | undefined): boolean {
  if (code === 'BERRY_ERR_BACKEND_UNAVAILABLE') return true
  return status >= 400 && status < 500 && status !== 408 && status !== 429 && code?.startsWith('BERRY_ERR_') === true
}

function judgeFailure (status: number, body: unknown, text: string): { status: HealthStatus, detail: string, code: string | null } {
  const { message, code } = errorOf(body)
  const detail = message ?? (text.trim() === '' ? `HTTP ${status}` : text.trim())
  const kind: HealthStatus = status === 504 || code === 'BERRY_ERR_UPSTREAM_TIMEOUT'
    ? 'timeout'
    : isSetupError(status, code) ? 'error' : 'unhealthy'
  return { status: kind, detail, code: code ?? null }
}

function completionContent (body: unknown): string | undefined {
  const choice = (body as { choices?: Array<{ message?: { content?: unknown }, text?: unknown }> } | undefined)?.choices?.[0]
  if (choice === undefined) return undefined
  const content = choice.message?.content ?? choice.text
  return typeof content === 'string' ? content : content === null ? '' : undefined
}

export async function probe (conn: Connection, target: Target, settings: ProbeSettings): Promise<ProbeResult> {
  const request = {
    model: target.model,
    messages: [{ role: 'user', content: settings.prompt }],
    backend: target.backend,
    max_tokens: settings.maxTokens,
    ...(settings.streaming ? { stream: true } : {})
  }
  const limit = deadline(conn)
  const startedAt = performance.now()
  const result = (status: HealthStatus, httpStatus: number | null, detail: string, extra: { firstChunkMs?: number | null, code?: string | null } = {}): ProbeResult => ({
    ...target,
    status,
    httpStatus,
    latencyMs: performance.now() - startedAt,
    firstChunkMs: extra.firstChunkMs ?? null,
    detail,
    code: extra.code ?? null
  })
  let httpStatus: number | null = null
  try {
    const res = await conn.fetch(endpoint(conn, '/v1/chat/completions'), {
      method: 'POST',
      headers: headers(conn, true),
      body: JSON.stringify(request),
      signal: limit.signal
    })
    httpStatus = res.status
    const isStream = (res.headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')
    if (res.ok && isStream && res.body !== null) {
      const stream = await readEventStream(res.body, startedAt)
      const timing = { firstChunkMs: stream.firstChunkMs }
      if (stream.error !== undefined) return result('unhealthy', res.status, stream.error, timing)
      if (stream.chunks === 0) return result('unhealthy', res.status, 'the stream carried no chunk', timing)
      return result('healthy', res.status, stream.firstContent ?? stream.firstData ?? '', timing)
    }
    const text = await res.text()
    let body: unknown
    try { body = JSON.parse(text) } catch { body = undefined }
    if (!res.ok) {
      const failure = judgeFailure(res.status, body, text)
      return result(failure.status, res.status, failure.detail, { code: failure.code })
    }
    const content = completionContent(body)
    if (content === undefined) return result('unhealthy', res.status, 'the answer is not a chat completion')
    return result('healthy', res.status, content)
  } catch (err) {
    if (limit.timedOut()) return result('timeout', httpStatus, `no answer within ${conn.timeoutMs / 1000}s`)
    if (conn.signal?.aborted === true) return result('error', httpStatus, 'cancelled')
    return result('error', httpStatus, describeError(err))
  } finally {
    limit.clear()
  }
}
