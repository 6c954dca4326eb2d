/**
 * Shared pieces of the security suite (test/security/): a config full of
 * recognisable secrets, a scanner that finds any of them in text, a raw
 * HTTP/1.1 client for requests that fetch would normalise or refuse, and a
 * counter of the hostile inputs tried.
 */
import type { FastifyServerOptions } from 'fastify'
import { connect } from 'node:net'
import { appendFileSync } from 'node:fs'
import type { BerryOptions } from '../../plugin/index.js'
import { loggerOptions, serverOptions, type ServerLimits } from '../../example-app/server-options.js'
import { startBerry, type RunningBerry } from './berry.js'
import { json, startUpstream, type FakeUpstream, type Received } from './fake-upstream.js'

/** Every secret the config below holds: none may ever leave berry. */
export const KEYS = {
  openai: 'sk-sec-openai-KEY-aaaa1111',
  claude: 'sk-ant-sec-KEY-bbbb2222',
  claudeHeader: 'hdr-secret-cccc3333',
  azureHeader: 'azure-secret-dddd4444',
  disabled: 'sk-disabled-KEY-eeee5555'
} as const

export const TOKENS = {
  alice: 'tok-alice-SECRET-0001',
  bob: 'tok-bob-SECRET-0002',
  ops: 'tok-ops-SECRET-0003',
  carol: 'tok-carol-SECRET-0004'
} as const

/** Provider keys and header secrets (what must never reach a client or a log). */
export const PROVIDER_SECRETS: readonly string[] = Object.values(KEYS)
/** User tokens (what must never reach an upstream, a log or another client). */
export const USER_SECRETS: readonly string[] = Object.values(TOKENS)
export const SECRETS: readonly string[] = [...PROVIDER_SECRETS, ...USER_SECRETS]

/**
 * Each secret also in the shapes a leak might take: JSON-escaped, URL-encoded,
 * base64 (a Basic header), and its distinctive middle part (a truncated or
 * partly masked copy). Masks keep at most the last four characters.
 */
function leakForms (secret: string): string[] {
  const middle = secret.slice(0, -4)
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), middle]
}

/** The secrets (by name) that occur in `text`, in any leak form. */
export function findSecrets (text: string, secrets: readonly string[] = SECRETS): string[] {
  const found: string[] = []
  for (const secret of secrets) {
    if (leakForms(secret).some((form) => text.includes(form))) found.push(secret)
  }
  return found
}

export interface SecConfigOptions {
  /** settings.backend_pinning, as TOML text (`"all"`, `"off"`, `["ops"]`). */
  pinning?: string
  bodyLimit?: number
  /** settings.request_timeout_seconds (default 5). */
  timeoutSeconds?: number
  /** Extra TOML appended at the end. */
  extra?: string
}

export interface SecOrigins {
  openai: string
  claude: string
  azure: string
}

/**
 * Four providers (one disabled, one keyed by header only, one with an Azure
 * style query in its base_url), four models, four users with different
 * rights.
 */
export function secConfig (origins: SecOrigins, options: SecConfigOptions = {}): string {
  const settings = [
    options.pinning === undefined ? '' : `backend_pinning = ${options.pinning}`,
    options.bodyLimit === undefined ? '' : `body_limit = ${options.bodyLimit}`
  ].filter(Boolean).join('\n')
  return `
[settings]
request_timeout_seconds = ${options.timeoutSeconds ?? 5}
${settings}

[providers.openai_official]
name = "OpenAI Official"
base_url = "${origins.openai}/v1"
api_key = "${KEYS.openai}"

[providers.anthropic_claude]
name = "Anthropic Claude"
base_url = "${origins.claude}/v1"
api_key = "${KEYS.claude}"
headers = { "x-api-key" = "${KEYS.claudeHeader}" }

[providers.azure_like]
name = "Azure-like"
base_url = "${origins.azure}/openai/deployments/prem?api-version=2024-02-01"
api_key = ""
headers = { "api-key" = "${KEYS.azureHeader}" }

[providers.disabled_backend]
base_url = "${origins.openai}/v1"
api_key = "${KEYS.disabled}"
enabled = false

[models.gpt_4o]
name = "gpt-4o"
[[models.gpt_4o.backends]]
provider = "openai_official"
model = "gpt-4o-2024-08-06"
[[models.gpt_4o.backends]]
provider = "disabled_backend"
model = "gpt-4o"

[[models.claude_sonnet_4.backends]]
provider = "anthropic_claude"
model = "claude-3-5-sonnet-20241022"

[models.premium]
name = "gpt-4o-premium"
[[models.premium.backends]]
provider = "azure_like"
model = "gpt-4o-premium-deployment"

[models.embed]
name = "text-embedding-3-small"
[[models.embed.backends]]
provider = "openai_official"
model = "text-embedding-3-small"

[users.alice]
token = "${TOKENS.alice}"
allowed_models = ["gpt-4o", "text-embedding-3-small"]

[users.bob]
token = "${TOKENS.bob}"

[users.ops]
token = "${TOKENS.ops}"
tags = ["admin", "ops"]

[users.carol]
token = "${TOKENS.carol}"
enabled = false
${options.extra ?? ''}
`
}

export interface SecSetup {
  readonly berry: RunningBerry
  readonly openai: FakeUpstream
  readonly claude: FakeUpstream
  readonly azure: FakeUpstream
  readonly upstreams: readonly FakeUpstream[]
  /** Every request any upstream received. */
  received (): Received[]
}

interface Teardown { teardown (fn: () => unknown): void }

/**
 * berry on a host built like the example app (server-options.ts): the
 * recommended timeouts, limits and request log, logging at `level` into
 * `logs`. Like helpers/berry.ts startBerry otherwise.
 */
export async function startHardened (t: Teardown, options: BerryOptions, level = 'trace', limits: Partial<ServerLimits> = {}): Promise<RunningBerry> {
  return startBerry(t, options, level, (stream) => ({ ...serverOptions(limits), logger: { ...loggerOptions(level), stream } }) as FastifyServerOptions)
}

/** Three fake upstreams and berry (logging at trace, so every line can be scanned). */
export async function startSecurity (t: Teardown, options: SecConfigOptions = {}): Promise<SecSetup> {
  const openai = await startUpstream(json('from openai'))
  const claude = await startUpstream(json('from claude'))
  const azure = await startUpstream(json('from azure'))
  t.teardown(() => openai.close())
  t.teardown(() => claude.close())
  t.teardown(() => azure.close())
  const gateway = await startHardened(t, { config: secConfig({ openai: openai.origin, claude: claude.origin, azure: azure.origin }, options) })
  const upstreams = [openai, claude, azure]
  return { berry: gateway, openai, claude, azure, upstreams, received: () => upstreams.flatMap((u) => u.received) }
}

export interface RawResponse {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  /** The whole response as received, head included. */
  readonly raw: string
}

/**
 * Sends `head` (request line and headers, CRLF-separated, without the final
 * blank line) and `body` byte for byte, and reads until the server closes or
 * the response is complete. For paths, methods and header bytes that fetch
 * would normalise or refuse.
 */
export function rawRequest (url: string, head: string, body: string | Buffer = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) })
    const chunks: Buffer[] = []
    let settled = false
    const finish = (): void => {
      if (settled) return
      settled = true
      socket.destroy()
      resolve(parseRaw(Buffer.concat(chunks).toString('latin1')))
    }
    socket.on('connect', () => {
      socket.write(`${head}\r\n\r\n`, 'latin1')
      if (body.length > 0) socket.write(body)
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (isComplete(Buffer.concat(chunks).toString('latin1'))) finish()
    })
    socket.on('end', finish)
    socket.on('close', finish)
    socket.on('error', (err) => {
      if (chunks.length > 0) finish()
      else if (!settled) { settled = true; reject(err) }
    })
    socket.setTimeout(10_000, () => finish())
  })
}

/** Drops interim 1xx responses (100 Continue) ahead of the final one. */
function finalResponse (text: string): string {
  let rest = text
  while (/^HTTP\/1\.[01] 1\d\d /.test(rest)) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) return rest
    rest = rest.slice(end + 4)
  }
  return rest
}

function isComplete (whole: string): boolean {
  const text = finalResponse(whole)
  const end = text.indexOf('\r\n\r\n')
  if (end === -1) return false
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))
  if (length !== null) return Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length[1])
  return /\r\ntransfer-encoding:\s*chunked/i.test(text.slice(0, end)) && text.endsWith('0\r\n\r\n')
}

function parseRaw (raw: string): RawResponse {
  const text = finalResponse(raw)
  const end = text.indexOf('\r\n\r\n')
  const head = end === -1 ? text : text.slice(0, end)
  let body = end === -1 ? '' : text.slice(end + 4)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body)
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0)
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw }
}

function dechunk (text: string): string {
  let out = ''
  let rest = text
  for (;;) {
    const line = rest.indexOf('\r\n')
    if (line === -1) break
    const size = parseInt(rest.slice(0, line), 16)
    if (!Number.isFinite(size) || size === 0) break
    out += rest.slice(line + 2, line + 2 + size)
    rest = rest.slice(line + 2 + size + 2)
  }
  return out
}

/** A raw POST of a JSON body with the usual headers, `extra` lines appended. */
export function rawPost (url: string, path: string, token: string | null, body: string, extra: string[] = []): Promise<RawResponse> {
  const { host } = new URL(url)
  const lines = [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(token === null ? [] : [`Authorization: Bearer ${token}`]),
    ...extra
  ]
  return rawRequest(url, lines.join('\r\n'), body)
}

/** `{"error": {"message": string, "type": string, ...}}`: OpenAI's error shape. */
export function isOpenAIError (body: unknown): boolean {
  if (body === null || typeof body !== 'object') return false
  const error = (body as { error?: unknown }).error
  return error !== null && typeof error === 'object' &&
    typeof (error as { message?: unknown }).message === 'string' &&
    typeof (error as { type?: unknown }).type === 'string'
}

export function parseJson (text: string): unknown {
  try { return JSON.parse(text) } catch { return undefined }
}

/**
 * Hostile inputs tried, per attack class, so the suite can report its
 * figures. Each test file adds to a tally file when SECURITY_TALLY names
 * one (tap runs files in separate processes).
 */
export function tally (attackClass: string, inputs: number): void {
  const file = process.env.SECURITY_TALLY
  if (file !== undefined && file !== '') appendFileSync(file, `${attackClass}\t${inputs}\n`)
}

/** Every log line and the given texts, scanned for every secret. */
export function leaksIn (berry: RunningBerry, texts: readonly string[] = []): string[] {
  const logs = berry.logs.map((line) => JSON.stringify(line)).join('\n')
  return findSecrets(`${logs}\n${texts.join('\n')}`)
}
