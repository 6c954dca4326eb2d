/**
 * Test configs as TOML text (the path users take), built from a few lines:
 * one public model served by one backend per provider, the test users, and
 * whatever settings or keys a test is about.
 *
 *   gatewayConfig({ providers: { a: a.origin, b: { origin: b.origin, timeout_seconds: 0.5 } } })
 *
 * gives providers `a` and `b` (`base_url = "<origin>/v1"`, `api_key =
 * "sk-<id>-secret"`), model `gpt_4o` (public as `gpt-4o`) with a backend per
 * provider sending upstream model `model-<id>`, and users `alice` (TOKEN)
 * and `ops` (ADMIN_TOKEN, tagged admin).
 */
import { ADMIN_TOKEN, TOKEN } from './berry.js'

export type TomlValue = string | number | boolean | readonly TomlValue[] | { readonly [key: string]: TomlValue }
type Table = Readonly<Record<string, TomlValue>>

export interface ProviderSpec extends Table {
  readonly origin: string
}

export interface GatewaySpec {
  /** Provider id to origin, or to its origin and more `[providers.<id>]` keys. */
  readonly providers: Readonly<Record<string, string | ProviderSpec>>
  /** The model's table key (default `gpt_4o`, public as `gpt-4o`). */
  readonly model?: string
  /** More `[models.<key>]` keys (`strategy`, `name`). */
  readonly modelKeys?: Table
  /** More keys of each backend, by provider id (`weight`, `priority`). */
  readonly backends?: Readonly<Record<string, Table>>
  readonly settings?: Table
  /** Default: alice (TOKEN) and ops (ADMIN_TOKEN, admin). */
  readonly users?: Readonly<Record<string, Table>>
  /** Raw TOML appended at the end. */
  readonly extra?: string
}

export const DEFAULT_USERS: Readonly<Record<string, Table>> = {
  alice: { token: TOKEN },
  ops: { token: ADMIN_TOKEN, tags: ['admin'] }
}

function value (v: TomlValue): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `[${v.map(value).join(', ')}]`
  return `{ ${Object.entries(v).map(([k, item]) => `${JSON.stringify(k)} = ${value(item)}`).join(', ')} }`
}

function table (header: string, keys: Table): string {
  return `${header}\n${Object.entries(keys).map(([k, v]) => `${k} = ${value(v)}`).join('\n')}\n`
}

export function gatewayConfig (spec: GatewaySpec): string {
  const model = spec.model ?? 'gpt_4o'
  const parts: string[] = []
  if (spec.settings !== undefined) parts.push(table('[settings]', spec.settings))
  for (const [id, provider] of Object.entries(spec.providers)) {
    const { origin, ...keys } = typeof provider === 'string' ? { origin: provider } : provider
    parts.push(table(`[providers.${id}]`, { base_url: `${origin}/v1`, api_key: `sk-${id}-secret`, ...keys }))
  }
  parts.push(table(`[models.${model}]`, spec.modelKeys ?? {}))
  for (const id of Object.keys(spec.providers)) {
    parts.push(table(`[[models.${model}.backends]]`, { provider: id, model: `model-${id}`, ...spec.backends?.[id] }))
  }
  for (const [id, user] of Object.entries(spec.users ?? DEFAULT_USERS)) parts.push(table(`[users.${id}]`, user))
  if (spec.extra !== undefined) parts.push(spec.extra)
  return parts.join('\n')
}
