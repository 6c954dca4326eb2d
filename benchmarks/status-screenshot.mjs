// A screenshot of berry's status page, as an operator sees it after signing in.
//
//   node benchmarks/status-screenshot.mjs --url=http://127.0.0.1:3000 --token=berry-demo-admin-token
//     [--path=/status] [--out=docs/status.png] [--width=1440] [--dark] [--wait=3]
//
// The token may come from BERRY_TOKEN instead of --token. It is typed into
// the page's field like a person would; it never goes into a URL. Needs
// chromium (BERRY_CHROMIUM, else /usr/bin/chromium) and puppeteer-core.
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import puppeteer from 'puppeteer-core'
import { parseArgs } from './lib/args.mjs'

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

function chromium () {
  const chosen = process.env.BERRY_CHROMIUM
  if (chosen) return chosen
  const found = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p))
  if (found === undefined) throw new Error('no chromium found: set BERRY_CHROMIUM or apt-get install chromium')
  return found
}

/** Signs in at `${url}${path}`, waits for `waitSeconds` of refreshes, and saves a full-page PNG to `out`. */
export async function screenshot ({ url, token, path = '/status', out = 'docs/status.png', width = 1440, dark = false, waitSeconds = 3 }) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'berry-shot-'))
  const browser = await puppeteer.launch({ executablePath: chromium(), headless: true, args: CHROMIUM_ARGS, userDataDir })
  try {
    const page = await browser.newPage()
    await page.setViewport({ width, height: 900, deviceScaleFactor: 1 })
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: dark ? 'dark' : 'light' }])
    const errors = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(new URL(path, url).href, { waitUntil: 'networkidle0' })
    await page.waitForSelector('#login:not([hidden])')
    await page.type('#token', token)
    await page.keyboard.press('Enter')
    await Promise.race([
      page.waitForSelector('#dashboard:not([hidden])', { timeout: 10_000 }),
      page.waitForFunction(() => (document.getElementById('login-error')?.textContent ?? '') !== '', { timeout: 10_000 })
        .then(async () => { throw new Error(await page.$eval('#login-error', (e) => e.textContent)) })
    ])
    await sleep(waitSeconds * 1000)
    if (errors.length > 0) throw new Error(`the page failed: ${errors.join('; ')}`)
    await page.screenshot({ path: out, fullPage: true })
    return out
  } finally {
    await browser.close()
    await rm(userDataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = parseArgs(process.argv.slice(2))
  const token = args.token ?? process.env.BERRY_TOKEN
  if (typeof args.url !== 'string' || typeof token !== 'string') {
    console.error('usage: node benchmarks/status-screenshot.mjs --url=http://127.0.0.1:3000 --token=<admin token> [--path=/status] [--out=docs/status.png] [--width=1440] [--dark] [--wait=3]')
    process.exit(2)
  }
  const out = await screenshot({
    url: args.url,
    token,
    path: args.path ?? '/status',
    out: args.out ?? 'docs/status.png',
    width: Number(args.width ?? 1440),
    dark: args.dark === true,
    waitSeconds: Number(args.wait ?? 3)
  })
  console.log(`saved ${out}`)
}
