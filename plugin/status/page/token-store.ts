/**
 * The admin token, kept for this tab only: sessionStorage ends with the tab
 * and is never sent anywhere by itself. Never localStorage, a cookie or a URL.
 */
const KEY = 'berry-status-token'

export function readToken (): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    // Storage switched off by the browser: the token then lives in memory only.
    return null
  }
}

export function keepToken (token: string): void {
  try {
    sessionStorage.setItem(KEY, token)
  } catch {}
}

export function forgetToken (): void {
  try {
    sessionStorage.removeItem(KEY)
  } catch {}
}
