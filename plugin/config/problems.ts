/**
 * typebox's findings on a raw config, as one line per problem naming the
 * TOML path (`models.gpt_4o.backends[1].weight: must be >= 0`).
 */
import { Compile } from 'typebox/compile'
import { isRecord } from '../json.js'
import { ConfigSchema } from './schema.js'

export const checker = Compile(ConfigSchema)

/** `/models/gpt_4o/backends/1/provider` -> `models.gpt_4o.backends[1].provider` */
export function tomlPath (pointer: string): string {
  let out = ''
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (/^\d+$/.test(part)) out += `[${part}]`
    else out += out ? `.${part}` : part
  }
  return out || '(root)'
}

/** The strings listed under `key` of a typebox error's params. */
function stringsAt (params: unknown, key: string): string[] {
  const list: unknown = isRecord(params) ? params[key] : undefined
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : []
}

export function schemaProblems (root: unknown): string[] {
  const seen = new Set<string>()
  for (const error of checker.Errors(root)) {
    // `additionalProperties: false` reports each extra key twice: once as a
    // false sub-schema at the key, once listing the keys at the parent.
    if (error.keyword === 'boolean') continue
    const path = tomlPath(error.instancePath)
    let message: string
    const params: unknown = error.params
    if (error.keyword === 'additionalProperties') {
      const keys = stringsAt(params, 'additionalProperties')
      for (const key of keys) seen.add(`${path === '(root)' ? key : `${path}.${key}`}: unknown key`)
      continue
    } else if (error.keyword === 'required') {
      const keys = stringsAt(params, 'requiredProperties')
      message = `missing required key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`
    } else {
      message = error.message
    }
    seen.add(`${path}: ${message}`)
  }
  return [...seen]
}
