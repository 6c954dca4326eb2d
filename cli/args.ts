/**
 * The command line, parsed with Node's own `util.parseArgs` (no dependency)
 * into one validated, typed value. Every mistake is a `UsageError`, which
 * the tool reports with exit status 2.
 */
import { parseArgs } from 'node:util'
import type { Env } from './output.js'

export const COMMANDS = ['check', 'monitor', 'benchmark'] as const
export type CommandName = typeof COMMANDS[number]

export const DEFAULT_URL = 'http://localhost:3000'
export const DEFAULT_TIMEOUT_SECONDS = 30
export const DEFAULT_INTERVAL_SECONDS = 60
export const DEFAULT_ROUNDS = 3
export const DEFAULT_MAX_TOKENS = 1
export const DEFAULT_PROMPT = 'ping'

export interface Options {
  readonly command: CommandName
  /** berry's base URL, without a trailing slash. */
  readonly url: string
  readonly token: string | undefined
  /** Empty: every model. */
  readonly models: readonly string[]
  /** Empty: every backend berry lists. */
  readonly backends: readonly string[]
  readonly timeoutMs: number
  readonly json: boolean
  readonly maxTokens: number
  readonly prompt: string
  readonly streaming: boolean
  readonly serial: boolean
  readonly intervalMs: number
  readonly webhook: string | undefined
  /** monitor: stop after this many rounds (undefined: until Ctrl-C). */
  readonly count: number | undefined
  readonly rounds: number
}

export type Parsed = { help: true } | { help: false, options: Options }

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const SPEC = {
  url: { type: 'string' },
  token: { type: 'string' },
  model: { type: 'string', multiple: true },
  backends: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  'max-tokens': { type: 'string' },
  prompt: { type: 'string' },
  streaming: { type: 'boolean' },
  serial: { type: 'boolean' },
  interval: { type: 'string' },
  webhook: { type: 'string' },
  count: { type: 'string' },
  rounds: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

/** Options that belong to one command only; elsewhere they are a mistake. */
const ONLY: Readonly<Record<string, readonly CommandName[]>> = {
  serial: ['check', 'monitor'],
  interval: ['monitor'],
  webhook: ['monitor'],
  count: ['monitor'],
  rounds: ['benchmark']
}

/**
 * `--backends a b c` as the spec's tool takes it: every word up to the next
 * option. parseArgs wants one value per flag, so the words are spread out.
 */
function spreadBackends (argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    if (arg !== '--backends') {
      out.push(arg)
      continue
    }
    let taken = 0
    while (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('-')) {
      out.push('--backends', argv[++i] as string)
      taken++
    }
    if (taken === 0) throw new UsageError('--backends needs at least one backend id')
  }
  return out
}

function seconds (name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback * 1000
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${name} must be a number of seconds above 0, got '${raw}'`)
  }
  return Math.round(value * 1000)
}

function count (name: string, raw: string | undefined, fallback: number): number
function count (name: string, raw: string | undefined, fallback: undefined): number | undefined
function count (name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!/^\d+$/.test(raw.trim()) || value < 1) throw new UsageError(`--${name} must be a whole number of at least 1, got '${raw}'`)
  return value
}

/** An http(s) URL without credentials (they would travel in every request line and log). */
function httpUrl (name: string, raw: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new UsageError(`--${name} is not a URL: '${raw}'`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${name} must be an http:// or https:// URL`)
  if (url.username !== '' || url.password !== '') throw new UsageError(`--${name} must not carry credentials; give the token with --token or BERRY_TOKEN`)
  return url
}

/** Splits `a,b` and drops empties, so `--backends a,b` works too. */
function list (values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== ''))]
}

export function parse (argv: readonly string[], env: Env): Parsed {
  let values: ReturnType<typeof parseArgs<{ options: typeof SPEC, allowPositionals: true }>>['values']
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({ args: spreadBackends(argv), options: SPEC, allowPositionals: true, strict: true }))
  } catch (err) {
    if (err instanceof UsageError) throw err
    // parseArgs' messages are already precise ("Unknown option '--x'...").
    throw new UsageError((err as Error).message)
  }
  if (values.help === true) return { help: true }

  const backends = list(values.backends)
  // `--backends a b check` swallows the command; give it back.
  if (positionals.length === 0 && COMMANDS.includes(backends.at(-1) as CommandName)) {
    positionals.push(backends.pop() as string)
  }
  const [command, ...extra] = positionals
  if (command === undefined) throw new UsageError(`a command is needed: ${COMMANDS.join(', ')}`)
  if (!COMMANDS.includes(command as CommandName)) throw new UsageError(`unknown command '${command}'; use one of ${COMMANDS.join(', ')}`)
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0] as string}'`)
  const name = command as CommandName
  for (const [option, commands] of Object.entries(ONLY)) {
    if (values[option as keyof typeof values] !== undefined && !commands.includes(name)) {
      throw new UsageError(`--${option} does not apply to '${name}' (only to ${commands.join(', ')})`)
    }
  }

  // An empty variable counts as unset, as shells make them easily.
  const url = httpUrl('url', values.url ?? (env.BERRY_URL || DEFAULT_URL))
  const webhook = values.webhook === undefined ? undefined : httpUrl('webhook', values.webhook).href
  const token = values.token ?? env.BERRY_TOKEN
  const prompt = values.prompt ?? DEFAULT_PROMPT
  if (prompt === '') throw new UsageError('--prompt must not be empty')
  return {
    help: false,
    options: {
      command: name,
      url: url.href.replace(/\/+$/, ''),
      token: token === '' ? undefined : token,
      models: list(values.model),
      backends,
      timeoutMs: seconds('timeout', values.timeout, DEFAULT_TIMEOUT_SECONDS),
      json: values.json === true,
      maxTokens: count('max-tokens', values['max-tokens'], DEFAULT_MAX_TOKENS),
      prompt,
      streaming: values.streaming === true,
      serial: values.serial === true,
      intervalMs: seconds('interval', values.interval, DEFAULT_INTERVAL_SECONDS),
      webhook,
      count: count('count', values.count, undefined),
      rounds: count('rounds', values.rounds, DEFAULT_ROUNDS)
    }
  }
}
