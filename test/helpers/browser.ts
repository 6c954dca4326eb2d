/**
 * A real browser for page tests: Debian's chromium driven by puppeteer-core
 * (never the `puppeteer` package, whose browser download cannot work here).
 * `launchBrowser` answers the reason in words when chromium cannot be found
 * or started, so a test can skip saying why instead of passing silently.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'

/** Where Debian and others put it; BERRY_CHROMIUM overrides. */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable']

/** Flags that work on this kind of machine: no sandbox (containers), no GPU, nothing fetched from Google. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync'
]

export interface LaunchedBrowser {
  readonly browser: Browser
  close (): Promise<void>
}

export function chromiumPath (): string | undefined {
  const chosen = process.env.BERRY_CHROMIUM
  if (chosen !== undefined && chosen !== '') return chosen
  return CANDIDATES.find((path) => existsSync(path))
}

/** The browser, or why there is none. */
export async function launchBrowser (): Promise<LaunchedBrowser | string> {
  const executablePath = chromiumPath()
  if (executablePath === undefined) return `no chromium found (looked for ${CANDIDATES.join(', ')}; set BERRY_CHROMIUM, or apt-get install chromium)`
  const userDataDir = await mkdtemp(join(tmpdir(), 'berry-chromium-'))
  try {
    const browser = await puppeteer.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, userDataDir, timeout: 20_000 })
    return {
      browser,
      async close () {
        await browser.close()
        await rm(userDataDir, { recursive: true, force: true })
      }
    }
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true })
    return `chromium at ${executablePath} did not start: ${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}`
  }
}

export interface WatchedPage {
  readonly page: Page
  /** Console messages of type error, and uncaught exceptions. */
  readonly errors: string[]
  /** Every URL the page requested. */
  readonly requests: string[]
}

/** A fresh page (its own browser context: no storage shared with other tests) that records its errors and requests. */
export async function watchedPage (browser: Browser): Promise<WatchedPage> {
  const context = await browser.createBrowserContext()
  const page = await context.newPage()
  const errors: string[] = []
  const requests: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url ?? ''})`)
  })
  page.on('pageerror', (err) => { errors.push(`uncaught: ${err instanceof Error ? err.message : String(err)}`) })
  page.on('request', (request) => { requests.push(request.url()) })
  return { page, errors, requests }
}
