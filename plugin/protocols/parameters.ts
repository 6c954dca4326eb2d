/**
 * A protocol's decision for every OpenAI chat parameter, as a table (the
 * idea of Portkey's `chatComplete.ts`): one glance says what maps to what.
 *
 * The table's type lists every key of the official SDK's
 * `ChatCompletionCreateParamsBase`, so a parameter OpenAI adds fails the
 * type-check until each protocol decides about it. At run time a key that
 * is not in the table is a 400 too: nothing is dropped unless the table says
 * so.
 */
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions'
import { UnsupportedParameter } from '../errors.js'

export type Rule<Target> =
  /** Converted by `apply`, which checks the value and writes into the target. */
  | { readonly kind: 'map', readonly apply: (value: unknown, target: Target, body: Record<string, unknown>) => void }
  /** Harmless to leave out: it does not change the answer. */
  | { readonly kind: 'drop' }
  /** No equivalent: a 400, unless the value is one that changes nothing (`n: 1`). */
  | { readonly kind: 'reject', readonly allows: (value: unknown) => boolean, readonly why: string }

/** A rule for each key of a request type: adding a key to the type fails the type-check until it has one. */
export type RuleTable<Keys extends PropertyKey, Target> = { readonly [K in Keys]-?: Rule<Target> }

/** The table of an OpenAI chat request converted to another protocol. */
export type ParameterTable<Target> = RuleTable<keyof ChatCompletionCreateParamsBase, Target>

export const drop = { kind: 'drop' } as const

export function reject (why: string, allows: (value: unknown) => boolean = () => false): { kind: 'reject', allows: (value: unknown) => boolean, why: string } {
  return { kind: 'reject', allows, why }
}

/**
 * Runs the table over the body: `null` means "the default" in OpenAI's API
 * and is skipped like an absent key.
 */
export function applyParameters<Target> (body: Record<string, unknown>, table: { readonly [key: string]: Rule<Target> }, target: Target, protocol: string, what = 'an OpenAI chat completions parameter'): void {
  for (const key of Object.keys(body)) {
    const value = body[key]
    if (value === null || value === undefined) continue
    const rule = Object.hasOwn(table, key) ? table[key] : undefined
    if (rule === undefined) throw UnsupportedParameter(key, protocol, `it is not ${what} berry knows how to convert`)
    if (rule.kind === 'map') rule.apply(value, target, body)
    else if (rule.kind === 'reject' && !rule.allows(value)) throw UnsupportedParameter(key, protocol, rule.why)
  }
}

/** Values that ask for nothing beyond the default. */
export const isZero = (value: unknown): boolean => value === 0
export const isOne = (value: unknown): boolean => value === 1
export const isFalse = (value: unknown): boolean => value === false
export const isEmptyObject = (value: unknown): boolean => value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0
export const isTextOnly = (value: unknown): boolean => Array.isArray(value) && value.every((item) => item === 'text')
