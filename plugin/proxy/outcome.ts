/**
 * How berry judges an upstream answer or error: whether it is the backend's
 * fault (health, failover), and how to say so without leaking addresses.
 */
import { BerryError } from '../errors.js'
import { errorCode } from '../json.js'

/** An attempt's result when no connection to its origin came free in time. */
export const UPSTREAM_BUSY = 'upstream busy'

/**
 * Statuses that say the backend, not the client's request, is at fault:
 * rejected credentials, overload, time-outs, server errors, and a 404: berry
 * sends every request to a fixed API path, so a 404 means this backend does
 * not serve the model it is configured with (another backend may). A 400 is
 * the client's business and goes back as it came.
 */
export function isBackendFailure (status: number): boolean {
  return status >= 500 || status === 429 || status === 401 || status === 403 || status === 408 || status === 404
}

/** Retry-After (seconds or an HTTP date) in milliseconds, capped at an hour. */
export function parseRetryAfter (value: unknown, now: number): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  const seconds = Number(value)
  let ms: number
  if (Number.isFinite(seconds)) {
    ms = seconds * 1000
  } else {
    const date = Date.parse(value)
    if (Number.isNaN(date)) return undefined
    ms = date - now
  }
  return Math.min(Math.max(ms, 0), 3_600_000)
}

export interface ErrorOutcome {
  readonly timeout: boolean
  /** Safe to show: no address, host or key. */
  readonly reason: string
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  EPIPE: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate not trusted',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
  BERRY_ERR_SHUTTING_DOWN: 'the gateway is shutting down'
}

/** Classifies an error from reply-from, whose `cause` holds undici's error. */
export function classifyError (error: unknown): ErrorOutcome {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = errorCode(current)
    if (code === 'FST_REPLY_FROM_GATEWAY_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
      return { timeout: true, reason: 'timeout' }
    }
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return { timeout: true, reason: 'connect timeout' }
    const reason = code === undefined ? undefined : REASONS[code]
    if (reason !== undefined) return { timeout: false, reason }
    current = Reflect.get(current, 'cause')
  }
  return { timeout: false, reason: 'connection failed' }
}

/** The codes berry itself ends an attempt with, neither of them the backend's doing. */
const OWN_ENDS = new Set(['BERRY_ERR_UPSTREAM_BUSY', 'BERRY_ERR_SHUTTING_DOWN'])

/**
 * The error berry itself ended an attempt with (connection-wait.ts: no free
 * connection in time; drain.ts: the gateway closing), found in
 * reply-from's `cause` chain. Any other error, berry's own included, is
 * judged as an upstream failure.
 */
export function ownError (error: unknown): BerryError | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof BerryError) return OWN_ENDS.has(current.code) ? current : undefined
    current = Reflect.get(current, 'cause')
  }
  return undefined
}
