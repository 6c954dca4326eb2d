/** The page's one request: GET /admin/status with the token as a Bearer header. */
import type { StatusView } from '../view-types.js'

export type StatusResult =
  | { readonly kind: 'ok', readonly view: StatusView }
  /** 401: the token is wrong or disabled. */
  | { readonly kind: 'refused', readonly message: string }
  /** 403: a valid token of a user without the admin tag. */
  | { readonly kind: 'forbidden', readonly message: string }
  /** berry could not be reached, or answered with an error of its own. */
  | { readonly kind: 'unavailable', readonly message: string }

async function errorMessage (res: Response): Promise<string> {
  try {
    const body: unknown = await res.json()
    if (body !== null && typeof body === 'object' && 'error' in body) {
      const error: unknown = body.error
      if (error !== null && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message
    }
  } catch {}
  return `HTTP ${res.status}`
}

export async function fetchStatus (url: string, token: string, signal: AbortSignal): Promise<StatusResult> {
  let res: Response
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      signal
    })
  } catch (err) {
    return { kind: 'unavailable', message: err instanceof Error ? err.message : String(err) }
  }
  if (res.status === 401) return { kind: 'refused', message: await errorMessage(res) }
  if (res.status === 403) return { kind: 'forbidden', message: await errorMessage(res) }
  if (!res.ok) return { kind: 'unavailable', message: await errorMessage(res) }
  try {
    const view: unknown = await res.json()
    if (!isStatusView(view)) return { kind: 'unavailable', message: 'an answer that is not berry\'s status' }
    return { kind: 'ok', view }
  } catch (err) {
    return { kind: 'unavailable', message: `an unreadable answer (${err instanceof Error ? err.message : String(err)})` }
  }
}

/** The gateway's answer has the status view's shape (its lists are lists), so the page can draw it. */
function isStatusView (value: unknown): value is StatusView {
  if (value === null || typeof value !== 'object') return false
  const lists = ['models', 'providers', 'users'].every((key) => Array.isArray(Reflect.get(value, key)))
  return lists && typeof Reflect.get(value, 'generated_at') === 'string'
}
