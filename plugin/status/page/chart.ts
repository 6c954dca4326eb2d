/**
 * A backend's last 15 minutes as a small SVG: requests per minute and p95
 * latency, each scaled to its own peak. Drawn with DOM calls (no markup
 * strings, no inline styles: the page's CSP allows neither); the colours
 * come from the stylesheet's classes, the figures from the title.
 */
import type { BackendChart } from '../view-types.js'
import { amount, millis } from './format.js'

const SVG = 'http://www.w3.org/2000/svg'
const WIDTH = 120
const HEIGHT = 28
const PAD = 2

/** An SVG path through the points, lifted over gaps (null), scaled to the peak. */
export function sparkPath (values: ReadonlyArray<number | null>, peak: number): string {
  if (values.length === 0 || peak <= 0) return ''
  const step = values.length > 1 ? (WIDTH - 2 * PAD) / (values.length - 1) : 0
  let d = ''
  let pen = false
  values.forEach((value, i) => {
    if (value === null) {
      pen = false
      return
    }
    const x = PAD + i * step
    const y = HEIGHT - PAD - (value / peak) * (HEIGHT - 2 * PAD)
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`
    pen = true
  })
  return d
}

function peakOf (values: ReadonlyArray<number | null>): number {
  let peak = 0
  for (const v of values) if (v !== null && v > peak) peak = v
  return peak
}

export function drawChart (chart: BackendChart, minutes: number): SVGSVGElement {
  const rates = chart.requests_per_minute
  const p95 = chart.latency_p95_ms
  const ratePeak = peakOf(rates)
  const latencyPeak = peakOf(p95)
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`)
  svg.setAttribute('width', String(WIDTH))
  svg.setAttribute('height', String(HEIGHT))
  svg.setAttribute('class', 'spark')
  svg.setAttribute('role', 'img')
  const label = ratePeak === 0
    ? `No requests in the last ${minutes} minutes`
    : `Last ${minutes} minutes: requests per second peaking at ${amount(ratePeak / 60)}, p95 latency peaking at ${millis(latencyPeak === 0 ? null : latencyPeak)}`
  svg.setAttribute('aria-label', label)
  const title = document.createElementNS(SVG, 'title')
  title.textContent = label
  svg.append(title)
  const base = document.createElementNS(SVG, 'line')
  base.setAttribute('x1', String(PAD))
  base.setAttribute('x2', String(WIDTH - PAD))
  base.setAttribute('y1', String(HEIGHT - PAD))
  base.setAttribute('y2', String(HEIGHT - PAD))
  base.setAttribute('class', 'spark-base')
  svg.append(base)
  for (const [values, peak, cls] of [[rates, ratePeak, 'spark-rate'], [p95, latencyPeak, 'spark-latency']] as const) {
    const d = sparkPath(values, peak)
    if (d === '') continue
    const path = document.createElementNS(SVG, 'path')
    path.setAttribute('d', d)
    path.setAttribute('class', cls)
    svg.append(path)
  }
  return svg
}
