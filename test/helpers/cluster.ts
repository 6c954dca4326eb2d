/**
 * For tests of several berry instances sharing one Redis: bounded waits,
 * clocks that can be moved or set apart, a spy on the instances' channel,
 * and a request that reads its whole answer.
 */
import { Redis } from 'ioredis'
import type { RunningBerry } from './berry.js'

/** `promise`, or a failure naming `what` once `ms` have passed: a bounded wait, never a sleep. */
export async function within<T> (ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** A wall clock that a test moves: `now()` is Date.now() plus `offset`. */
export class TestClock {
  offset: number

  constructor (offset = 0) {
    this.offset = offset
  }

  readonly now = (): number => Date.now() + this.offset
}

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

/** A chat completion for `gpt-4o`, its answer read whole. */
export async function chat (app: RunningBerry, extra: Record<string, unknown> = {}, token?: string): Promise<Answer> {
  const res = await app.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra }, token)
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, headers: res.headers, body }
}

/** Resolves once `app` has logged `count` request lines ('berry request') in all. */
export function requestsLogged (app: RunningBerry, count: number): Promise<unknown> {
  let seen = 0
  return app.log((line) => line.msg === 'berry request' && ++seen >= count)
}

export interface ChannelSpy {
  readonly messages: Array<Record<string, any>>
  /** The first message (already received or still to come) that `matches`. */
  next (matches: (message: Record<string, any>) => boolean): Promise<Record<string, any>>
  close (): Promise<void>
}

/** Every message on berry's channel, as the instances send them. */
export async function spyOnChannel (url: string): Promise<ChannelSpy> {
  const client = new Redis(url)
  const messages: Array<Record<string, any>> = []
  const waiting = new Set<{ matches: (m: Record<string, any>) => boolean, resolve: (m: Record<string, any>) => void }>()
  client.on('message', (_channel: string, text: string) => {
    const message = JSON.parse(text)
    messages.push(message)
    for (const waiter of waiting) {
      if (!waiter.matches(message)) continue
      waiting.delete(waiter)
      waiter.resolve(message)
    }
  })
  await client.subscribe('berry:cluster')
  return {
    messages,
    next (matches) {
      const found = messages.find(matches)
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.add({ matches, resolve }))
    },
    async close () {
      client.disconnect()
    }
  }
}

/** The value of one metric line (`name` or `name{labels}`) in a Prometheus text. */
export function metricValue (text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1))
  }
  return undefined
}
