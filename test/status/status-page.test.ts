/**
 * The status page in a real browser (chromium through puppeteer-core),
 * against a real berry with fake upstreams: it loads with no console error
 * and no request outside the gateway, says plainly when a token is wrong,
 * shows a backend that starts failing within 3 seconds, keeps the token out
 * of every URL, localStorage and the markup, and works from the keyboard
 * and in dark mode. Skips, saying why, when chromium cannot run here.
 */
import t from 'tap'
import type { Page } from 'puppeteer-core'
import { ADMIN_TOKEN, startBerry, TOKEN, type RunningBerry } from '../helpers/berry.js'
import { launchBrowser, watchedPage, type WatchedPage } from '../helpers/browser.js'
import { json, startUpstream, status, type FakeUpstream } from '../helpers/fake-upstream.js'

function config (a: string, b: string): string {
  return `
[providers.a]
name = "Provider A"
base_url = "${a}/v1"
api_key = "sk-a-secret-key-000001"
[providers.b]
base_url = "${b}/v1"
api_key = "sk-b-secret-key-000002"

[[models.gpt_4o.backends]]
provider = "a"
model = "gpt-4o"
weight = 3
[[models.gpt_4o.backends]]
provider = "b"
model = "gpt-4o"
weight = 1

[models.claude]
name = "claude"
[[models.claude.backends]]
provider = "b"
model = "claude-x"

[users.alice]
token = "${TOKEN}"
[users.ops]
token = "${ADMIN_TOKEN}"
tags = ["admin"]

[settings]
circuit_breaker_failure_threshold = 2
`
}

/** The text of each row of a table's body, as rendered: cells apart by a tab, lines by a newline. */
function rows (page: Page, table: string): Promise<string[]> {
  return page.$$eval(`#${table} tbody tr`, (trs) => trs.map((tr) => tr.innerText))
}

async function signIn (page: Page, token: string): Promise<void> {
  await page.click('#token')
  await page.keyboard.type(token)
  await page.keyboard.press('Enter')
}

async function ask (berry: RunningBerry, body: Record<string, unknown>, token = TOKEN): Promise<number> {
  const res = await berry.post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], ...body }, token)
  await res.arrayBuffer()
  return res.status
}

/** Console errors other than the browser's own line for an expected 401/403 answer. */
function unexpected (watched: WatchedPage): string[] {
  return watched.errors.filter((e) => !/^Failed to load resource: the server responded with a status of 40[13] .*\/admin\/status\)$/.test(e))
}

const launched = await launchBrowser()
if (typeof launched === 'string') {
  t.test('the status page in a real browser', { skip: `chromium cannot be used here: ${launched}` }, async () => {})
} else {
  t.teardown(() => launched.close())
  const upstreams: FakeUpstream[] = [await startUpstream(json()), await startUpstream(json())]
  t.teardown(() => Promise.all(upstreams.map((u) => u.close())))
  const [a, b] = upstreams as [FakeUpstream, FakeUpstream]
  const berry = await startBerry(t, { config: config(a.origin, b.origin), status: true, random: () => 0 })
  const origin = berry.url

  t.test('sign in, wrong tokens said plainly, a failing backend shown within 3 s, the token nowhere it must not be', async (t) => {
    const watched = await watchedPage(launched.browser)
    const { page } = watched
    await page.goto(`${origin}/status`, { waitUntil: 'networkidle0' })
    await page.waitForSelector('#login:not([hidden])')
    t.same(watched.errors, [], 'the page loads with no console error')

    await signIn(page, 'not-a-token-at-all')
    await page.waitForFunction(() => /refused/.test(document.getElementById('login-error')?.textContent ?? ''))
    t.match(await page.$eval('#login-error', (e) => e.textContent), /^That token was refused \(HTTP 401: Invalid API token\)\. Check it and try again\.$/)
    t.equal(await page.$eval('#dashboard', (e) => e.hasAttribute('hidden')), true, 'no dashboard for a wrong token')

    await signIn(page, TOKEN)
    await page.waitForFunction(() => /admin/.test(document.getElementById('login-error')?.textContent ?? ''))
    t.match(await page.$eval('#login-error', (e) => e.textContent), /lacks the 'admin' tag/)

    await signIn(page, ADMIN_TOKEN)
    await page.waitForSelector('#dashboard:not([hidden])')
    await page.waitForFunction(() => document.getElementById('overall')?.textContent === 'Gateway healthy')
    t.equal(await page.$eval('#login-error', (e) => e.textContent), '')
    for (let i = 0; i < 8; i++) t.equal(await ask(berry, { model: 'gpt-4o' }), 200)
    // The next refresh shows the traffic: all of gpt-4o's went to a (b's weight is 1 of 4, but random: () => 0).
    await page.waitForFunction(() => [...document.querySelectorAll('#backends-table tbody tr')]
      .some((tr) => tr.children[1]?.textContent === 'agpt-4o' && tr.children[5]?.textContent === '100%'), { timeout: 5000 })
    const before = await rows(page, 'backends-table')
    t.equal(before.length, 3)
    t.ok(before.every((r) => /healthy/.test(r) && !/unhealthy/.test(r)), 'every backend healthy at first')

    // b starts failing: two failures open its circuit.
    b.behave(status(500))
    for (let i = 0; i < 2; i++) t.equal(await ask(berry, { model: 'gpt-4o', backend: 'b' }), 500)
    const failedAt = Date.now()
    await page.waitForFunction(() => /unhealthy, next trial in \d+ s/.test(document.querySelector<HTMLElement>('#backends-table tbody tr')?.innerText ?? ''), { timeout: 3000 })
    t.comment(`the row said so ${Date.now() - failedAt} ms after the failure`)
    const after = await rows(page, 'backends-table')
    t.match(after[0], /^gpt-4o\tb\ngpt-4o\tunhealthy, next trial in \d+ s\t/, 'the unhealthy row comes first, in words')
    t.match(after[0], /HTTP 500, \d+ s ago/, 'with the last failure and its age')
    t.equal(await page.$eval('#backends-table tbody tr', (tr) => tr.getAttribute('data-state')), 'unhealthy')
    t.equal(await page.$eval('#overall', (e) => e.textContent), 'Gateway degraded')
    t.match(await page.title(), /degraded/)

    // The token: in sessionStorage (by design) and nowhere else.
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('berry-status-token'),
      local: localStorage.length,
      cookie: document.cookie,
      markup: document.documentElement.outerHTML,
      input: (document.getElementById('token') as HTMLInputElement).value
    }))
    t.equal(stored.session, ADMIN_TOKEN)
    t.equal(stored.local, 0, 'nothing in localStorage')
    t.equal(stored.cookie, '')
    t.notMatch(stored.markup, ADMIN_TOKEN, 'not in the markup')
    t.equal(stored.input, '', 'the field was emptied')
    t.ok(watched.requests.length > 4)
    t.same(watched.requests.filter((u) => !u.startsWith(`${origin}/`)), [], 'no request outside the gateway')
    t.same(watched.requests.filter((u) => u.includes(ADMIN_TOKEN) || u.includes(TOKEN)), [], 'no token in any URL')
    t.same(unexpected(watched), [], 'no console error but the browser\'s own lines for the 401 and the 403')

    // A reload keeps the session; signing out forgets the token.
    await page.reload({ waitUntil: 'networkidle0' })
    await page.waitForSelector('#dashboard:not([hidden])')
    await page.click('#sign-out')
    await page.waitForSelector('#login:not([hidden])')
    t.equal(await page.evaluate(() => sessionStorage.getItem('berry-status-token')), null)
    t.same(unexpected(watched), [])
    await page.close()
  })

  t.test('from the keyboard: filter and sort; readable in dark mode', async (t) => {
    const watched = await watchedPage(launched.browser)
    const { page } = watched
    await page.goto(`${origin}/status`, { waitUntil: 'networkidle0' })
    await page.waitForSelector('#login:not([hidden])')
    // The field has the focus: the token is typed straight away.
    t.equal(await page.evaluate(() => document.activeElement?.id), 'token')
    await page.keyboard.type(ADMIN_TOKEN)
    await page.keyboard.press('Enter')
    await page.waitForSelector('#backends-table tbody tr[data-state]')

    await page.focus('#filter')
    await page.keyboard.type('claude')
    t.same((await rows(page, 'backends-table')).map((r) => r.split('\t')[0]), ['claude'], 'the filter keeps the matching rows')
    for (let i = 0; i < 6; i++) await page.keyboard.press('Backspace')
    t.equal((await rows(page, 'backends-table')).length, 3)

    // Tab from the filter reaches the first sort button; Enter sorts, again reverses.
    await page.keyboard.press('Tab')
    await page.keyboard.press('Tab')
    t.equal(await page.evaluate(() => document.activeElement?.textContent), 'Model', 'the Model column header, by Tab')
    const sortOf = (): Promise<Array<string | null>> => page.$$eval('#backends-table thead th', (ths) => ths.map((th) => th.getAttribute('aria-sort')))
    t.equal((await sortOf())[2], 'ascending', 'by state at first, worst first')
    await page.keyboard.press('Enter')
    t.equal((await sortOf())[0], 'ascending')
    t.equal((await sortOf())[2], 'none')
    t.same((await rows(page, 'backends-table')).map((r) => r.split('\t')[0]), ['claude', 'gpt-4o', 'gpt-4o'])
    await page.keyboard.press('Space')
    t.equal((await sortOf())[0], 'descending')
    t.same((await rows(page, 'backends-table')).map((r) => r.split('\t')[0]), ['gpt-4o', 'gpt-4o', 'claude'])

    const colours = (): Promise<{ bg: number, fg: number }> => page.evaluate(() => {
      const luminance = (css: string): number => {
        const [r = 0, g = 0, b = 0] = (css.match(/\d+(\.\d+)?/g) ?? []).map(Number)
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
      }
      const style = getComputedStyle(document.documentElement)
      return { bg: luminance(style.backgroundColor), fg: luminance(getComputedStyle(document.body).color) }
    })
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }])
    const dark = await colours()
    t.ok(dark.bg < 0.2 && dark.fg > 0.7, `dark: a dark background (${dark.bg.toFixed(2)}) under light text (${dark.fg.toFixed(2)})`)
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
    const light = await colours()
    t.ok(light.bg > 0.9 && light.fg < 0.3, `light: the other way round (${light.bg.toFixed(2)}, ${light.fg.toFixed(2)})`)
    t.same(watched.errors, [], 'no console error')
    t.same(watched.requests.filter((u) => !u.startsWith(`${origin}/`)), [])
    await page.close()
  })
}
