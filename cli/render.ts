/**
 * Text rendering: aligned tables, durations, and ANSI colour for states
 * (plain ANSI codes, no library; `color: false` gives plain text).
 */
import type { HealthStatus, ProbeResult } from './probe.js'

const CODES = { green: 32, red: 31, yellow: 33, magenta: 35, dim: 2, bold: 1 } as const
export type Style = keyof typeof CODES

export function paint (color: boolean, style: Style, text: string): string {
  return color ? `\x1b[${CODES[style]}m${text}\x1b[0m` : text
}

const STATE_STYLE: Readonly<Record<HealthStatus, Style>> = {
  healthy: 'green',
  unhealthy: 'red',
  timeout: 'yellow',
  error: 'magenta'
}

export function paintStatus (color: boolean, status: HealthStatus): string {
  return paint(color, STATE_STYLE[status], status)
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g

function visibleLength (text: string): number {
  return text.replace(ANSI, '').length
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table (header: readonly string[], rows: readonly (readonly string[])[], color: boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const line = (cells: readonly string[]): string => cells
    .map((cell, i) => i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell)))
    .join('  ')
    .trimEnd()
  return [paint(color, 'bold', line(header)), ...rows.map(line)].join('\n')
}

export function ms (value: number | null | undefined): string {
  if (value === null || value === undefined) return '-'
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`
}

/** One line, at most `max` characters. */
export function clip (text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat
}

/** `backend` alone when one model is checked, else `backend (model)`. */
export function labeler (targets: readonly { model: string }[]): (t: { model: string, backend: string }) => string {
  const single = new Set(targets.map((t) => t.model)).size <= 1
  return (t) => single ? t.backend : `${t.backend} (${t.model})`
}

/** `3/4 healthy; unhealthy: x, y` */
export function summary (results: readonly ProbeResult[], color: boolean): string {
  const label = labeler(results)
  const healthy = results.filter((r) => r.status === 'healthy').length
  const bad = results.filter((r) => r.status !== 'healthy').map(label)
  const head = paint(color, bad.length === 0 ? 'green' : 'red', `${healthy}/${results.length} healthy`)
  return bad.length === 0 ? head : `${head}; unhealthy: ${bad.join(', ')}`
}

/** The JSON form of a result: snake_case like berry's own routes, whole milliseconds. */
export function resultJson (r: ProbeResult): Record<string, unknown> {
  return {
    backend: r.backend,
    model: r.model,
    status: r.status,
    http_status: r.httpStatus,
    latency_ms: Math.round(r.latencyMs),
    first_chunk_ms: r.firstChunkMs === null ? null : Math.round(r.firstChunkMs),
    detail: r.detail,
    code: r.code
  }
}
