// Samples a child's resident set size from /proc once a second: measured
// from outside, so the sampler costs the server under test nothing.
import { readFileSync } from 'node:fs'

export function readRssKb (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)
  return match === null ? undefined : Number(match[1])
}

/** The peak resident set size of `pid` so far (VmHWM), in kB. */
export function readPeakRssKb (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
  return match === null ? undefined : Number(match[1])
}

export function startRssSampler (pid, intervalMs = 1000) {
  const started = Date.now()
  const samples = []
  const sample = () => {
    try {
      const kb = readRssKb(pid)
      if (kb !== undefined) samples.push({ t: (Date.now() - started) / 1000, mb: kb / 1024 })
    } catch {}
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop () {
      clearInterval(timer)
      sample()
      return samples
    }
  }
}

/** Least-squares slope (MB per minute) of the samples from `fromT` seconds on. */
export function rssTrend (samples, fromT) {
  const points = samples.filter((s) => s.t >= fromT)
  if (points.length < 3) return { slopeMbPerMin: undefined, points: points.length }
  const n = points.length
  const meanT = points.reduce((a, p) => a + p.t, 0) / n
  const meanM = points.reduce((a, p) => a + p.mb, 0) / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.t - meanT) * (p.mb - meanM)
    den += (p.t - meanT) ** 2
  }
  return { slopeMbPerMin: den === 0 ? 0 : (num / den) * 60, points: n }
}
