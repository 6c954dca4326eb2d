/**
 * How berry-health talks to berry: the base URL, the token, a fetch (undici's
 * over an agent of the run's own, or one injected) and a per-request
 * deadline. Errors are described by their kind ("connection refused"),
 * never with headers.
 */
import { Agent, fetch as undiciFetch } from 'undici'

/** The part of a fetch Response the tool reads; the global and undici's both fit. */
export interface FetchResponse {
  readonly status: number
  readonly ok: boolean
  readonly headers: { get (name: string): string | null }
  readonly body: AsyncIterable<Uint8Array> | null
  text (): Promise<string>
  arrayBuffer (): Promise<ArrayBuffer>
}

export interface FetchInit {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export type Fetch = (url: string, init: FetchInit) => Promise<FetchResponse>

/**
 * A fetch over an agent that `close` shuts. With the process-wide agent, a
 * run would leave keep-alive sockets behind (for up to the server's
 * keep-alive time, 72 s with Fastify), holding up an in-process caller's
 * shutdown and the gateway's `close()`.
 */
export function ownFetch (connectTimeoutMs: number): { fetch: Fetch, close (): Promise<void> } {
  const agent = new Agent({ connect: { timeout: connectTimeoutMs } })
  return {
    fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: agent }),
    close: () => agent.close()
  }
}

export interface Connection {
  /** Base URL without a trailing slash. */
  readonly url: string
  readonly token: string | undefined
  readonly timeoutMs: number
  readonly fetch: Fetch
  /** Aborted on Ctrl-C: in-flight requests stop at once. */
  readonly signal: AbortSignal | undefined
}

export function endpoint (conn: Pick<Connection, 'url'>, path: string): string {
  return conn.url + path
}

export function headers (conn: Connection, json = false): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json, text/event-stream' }
  if (json) out['content-type'] = 'application/json'
  if (conn.token !== undefined) out.authorization = `Bearer ${conn.token}`
  return out
}

const CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout'
}

/** fetch's "fetch failed" hides the reason in `cause`; dig it out. */
export function describeError (err: unknown): string {
  let current: unknown = err
  let innermost = err instanceof Error ? err.message : String(err)
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const { code, message, cause } = current as { code?: unknown, message?: unknown, cause?: unknown }
    if (typeof code === 'string' && CODES[code] !== undefined) return `${CODES[code]} (${code})`
    if (typeof message === 'string' && message !== '') innermost = typeof code === 'string' ? `${message} (${code})` : message
    if (cause === undefined) break
    current = cause
  }
  return innermost
}

/** A signal that fires on the deadline or on the connection's own abort. */
export interface Deadline {
  readonly signal: AbortSignal
  timedOut (): boolean
  clear (): void
}

export function deadline (conn: Pick<Connection, 'timeoutMs' | 'signal'>): Deadline {
  const controller = new AbortController()
  let expired = false
  const timer = setTimeout(() => {
    expired = true
    controller.abort(new Error('timeout'))
  }, conn.timeoutMs)
  const outer = conn.signal
  const onAbort = (): void => controller.abort(outer?.reason)
  if (outer?.aborted === true) onAbort()
  else outer?.addEventListener('abort', onAbort, { once: true })
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear () {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }
}

export interface JsonAnswer {
  readonly status: number
  readonly body: unknown
}

/** GET a JSON document; a body that is not JSON comes back as `undefined`. Throws on network errors. */
export async function getJson (conn: Connection, path: string): Promise<JsonAnswer> {
  const limit = deadline(conn)
  try {
    const res = await conn.fetch(endpoint(conn, path), { headers: headers(conn), signal: limit.signal })
    const text = await res.text()
    let body: unknown
    try { body = JSON.parse(text) } catch { body = undefined }
    return { status: res.status, body }
  } catch (err) {
    if (limit.timedOut()) throw new Error(`no answer within ${conn.timeoutMs / 1000}s`)
    throw new Error(describeError(err))
  } finally {
    limit.clear()
  }
}

/** `{"error": {"message", "code"}}`, berry's and OpenAI's error shape. */
export function errorOf (body: unknown): { message: string | undefined, code: string | undefined } {
  const error = (body as { error?: unknown } | undefined)?.error
  if (error === null || typeof error !== 'object') return { message: typeof error === 'string' ? error : undefined, code: undefined }
  const { message, code } = error as { message?: unknown, code?: unknown }
  return { message: typeof message === 'string' ? message : undefined, code: typeof code === 'string' ? code : undefined }
}
