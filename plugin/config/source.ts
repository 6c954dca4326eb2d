/**
 * Turns what a user passes as `config` (a file path, TOML text, or an object)
 * into a plain object, with `${ENV_VAR}` references replaced.
 */
import { readFileSync } from 'node:fs'
import { load as parseToml } from 'js-toml'
import { errorCode, errorMessage } from '../json.js'

export type ConfigSource = string | Record<string, unknown>

/**
 * A string is TOML text when it has a newline, a `[table]` or a `key =`;
 * anything else is a file path. Paths never contain a newline, and a TOML
 * document that defines anything has at least one of the others.
 */
export function looksLikeToml (text: string): boolean {
  return text.includes('\n') || /^\s*\[/.test(text) || /^\s*[\w"'.-]+\s*=/.test(text)
}

export function readConfigSource (source: ConfigSource): { value: unknown, origin: string, problems: string[] } {
  if (typeof source !== 'string') {
    return { value: source, origin: 'object', problems: [] }
  }
  let text = source
  let origin = 'TOML text'
  if (!looksLikeToml(source)) {
    origin = source
    try {
      text = readFileSync(source, 'utf8')
    } catch (err) {
      return { value: undefined, origin, problems: [`cannot read config file '${source}': ${errorCode(err) ?? errorMessage(err)}`] }
    }
  }
  try {
    return { value: parseToml(text), origin, problems: [] }
  } catch (err) {
    const detail = errorMessage(err).split('\n').map((line) => line.trim()).filter(Boolean).join(' ')
    return { value: undefined, origin, problems: [`TOML syntax error in ${origin}: ${detail}`] }
  }
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/**
 * Replaces `${NAME}` in every string value from `env`. Returns a new object;
 * a missing variable is a problem naming the TOML path, not an empty string
 * (an empty api_key would silently mean "keyless").
 */
export function substituteEnv (value: unknown, env: NodeJS.ProcessEnv, path: string, problems: string[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value
    return value.replace(ENV_REF, (_match, name: string) => {
      const found = env[name]
      if (found === undefined) {
        problems.push(`${path || '(root)'}: environment variable '${name}' is not set`)
        return ''
      }
      return found
    })
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => substituteEnv(item, env, `${path}[${i}]`, problems))
  }
  if (value !== null && typeof value === 'object') {
    // Null prototype: a TOML key named `__proto__` stays a plain key.
    const out: Record<string, unknown> = Object.create(null)
    for (const [key, item] of Object.entries(value)) {
      out[key] = substituteEnv(item, env, path ? `${path}.${key}` : key, problems)
    }
    return out
  }
  return value
}
