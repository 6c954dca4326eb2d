/**
 * Reading the client's parsed JSON with checks: each reader returns the
 * typed value or throws InvalidBody naming the path of the bad value
 * (`messages[2].tool_calls[0].function.arguments`), so a request that cannot
 * be converted is a 400 that says where.
 */
import { InvalidBody } from '../errors.js'
import { isOneOf, isRecord } from '../json.js'

export { isOneOf, isRecord }

export function readRecord (value: unknown, path: string): Record<string, unknown> {
  if (!isRecord(value)) throw InvalidBody(`'${path}' must be an object`)
  return value
}

export function readArray (value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw InvalidBody(`'${path}' must be an array`)
  return value
}

export function readString (value: unknown, path: string): string {
  if (typeof value !== 'string') throw InvalidBody(`'${path}' must be a string`)
  return value
}

export function readNumber (value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw InvalidBody(`'${path}' must be a number`)
  return value
}

export function readInteger (value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw InvalidBody(`'${path}' must be an integer of at least ${min}`)
  return value
}

export function readBoolean (value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw InvalidBody(`'${path}' must be a boolean`)
  return value
}

export function optionalString (value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : readString(value, path)
}

/** One string or an array of strings (`stop`). */
export function readStrings (value: unknown, path: string): string[] {
  if (typeof value === 'string') return [value]
  return readArray(value, path).map((item, i) => readString(item, `${path}[${i}]`))
}

/** JSON text to a value, or undefined when it is not JSON. */
export function parseJson (text: string): unknown {
  try {
    const value: unknown = JSON.parse(text)
    return value
  } catch {
    return undefined
  }
}
