/**
 * The status page: asks once for an admin token, then polls
 * GET /admin/status every 2 seconds and redraws. Polling rather than SSE:
 * EventSource cannot send an Authorization header, and the token must not
 * travel in a URL.
 */
import { fetchStatus } from './api.js'
import { amount } from './format.js'
import { createDashboard } from './render.js'
import { forgetToken, keepToken, readToken } from './token-store.js'

const REFRESH_MS = 2000

function element<T extends HTMLElement> (id: string, type: { new (): T }): T {
  const found = document.getElementById(id)
  if (!(found instanceof type)) throw new Error(`the status page lacks its #${id}`)
  return found
}

const api = document.querySelector<HTMLMetaElement>('meta[name="berry-status-api"]')?.content ?? ''
const overall = element('overall', HTMLElement)
const updated = element('updated', HTMLElement)
const signOut = element('sign-out', HTMLButtonElement)
const login = element('login', HTMLElement)
const loginForm = element('login-form', HTMLFormElement)
const tokenInput = element('token', HTMLInputElement)
const loginError = element('login-error', HTMLElement)
const dashboardSection = element('dashboard', HTMLElement)
const banner = element('banner', HTMLElement)
const filterInput = element('filter', HTMLInputElement)

const dashboard = createDashboard({
  totals: element('totals', HTMLElement),
  models: element('models-table', HTMLTableElement),
  backends: element('backends-table', HTMLTableElement),
  providers: element('providers-table', HTMLTableElement),
  users: element('users-table', HTMLTableElement)
})

// In memory as well: the page keeps working where sessionStorage is switched off.
let token: string | null = readToken()
let timer: ReturnType<typeof setTimeout> | undefined
let inFlight: AbortController | undefined
let lastSuccess = 0

function showLogin (message: string): void {
  if (timer !== undefined) clearTimeout(timer)
  inFlight?.abort()
  timer = undefined
  token = null
  forgetToken()
  dashboardSection.hidden = true
  signOut.hidden = true
  login.hidden = false
  loginError.textContent = message
  overall.textContent = 'Signed out'
  delete overall.dataset.state
  updated.textContent = ''
  document.title = 'berry status'
  tokenInput.focus()
}

function showDashboard (): void {
  login.hidden = true
  loginError.textContent = ''
  dashboardSection.hidden = false
  signOut.hidden = false
}

function schedule (): void {
  if (timer !== undefined) clearTimeout(timer)
  timer = setTimeout(poll, REFRESH_MS)
}

/** One refresh; a fault in drawing must not stop the polling. */
function poll (): void {
  refresh().catch((err: unknown) => {
    inFlight = undefined
    banner.hidden = false
    banner.textContent = `The page failed to draw the last answer (${err instanceof Error ? err.message : String(err)}); retrying.`
    schedule()
  })
}

async function refresh (): Promise<void> {
  timer = undefined
  const current = token
  if (current === null) return
  // A hidden tab does not poll; it catches up when shown again.
  if (document.hidden) return
  inFlight = new AbortController()
  const result = await fetchStatus(api, current, inFlight.signal)
  inFlight = undefined
  if (token !== current) return
  switch (result.kind) {
    case 'ok': {
      lastSuccess = Date.now()
      showDashboard()
      banner.hidden = true
      const view = result.view
      overall.textContent = `Gateway ${view.status}`
      overall.dataset.state = view.status
      updated.textContent = `Updated ${new Date(view.generated_at).toLocaleTimeString()}`
      document.title = `berry: ${view.status}`
      dashboard.render(view, filterInput.value)
      break
    }
    case 'refused':
      showLogin(`That token was refused (HTTP 401: ${result.message}). Check it and try again.`)
      return
    case 'forbidden':
      showLogin(`That token works, but its user lacks the 'admin' tag this page needs (HTTP 403: ${result.message}).`)
      return
    case 'unavailable': {
      banner.hidden = false
      const age = lastSuccess === 0 ? '' : ` The figures shown are ${amount((Date.now() - lastSuccess) / 1000)} s old.`
      banner.textContent = `berry cannot be reached or failed to answer (${result.message}); retrying every ${REFRESH_MS / 1000} s.${age}`
      if (lastSuccess === 0) showDashboard()
      break
    }
  }
  schedule()
}

loginForm.addEventListener('submit', (event) => {
  // Never a real submission: the token would end up in a URL or a request body.
  event.preventDefault()
  const value = tokenInput.value.trim()
  tokenInput.value = ''
  if (value === '') {
    loginError.textContent = 'Enter an admin token.'
    return
  }
  token = value
  keepToken(value)
  loginError.textContent = ''
  poll()
})

signOut.addEventListener('click', () => { showLogin('Signed out.') })
filterInput.addEventListener('input', () => { dashboard.refilter(filterInput.value) })
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && token !== null && timer === undefined && inFlight === undefined) poll()
})

if (token === null) showLogin('')
else poll()
