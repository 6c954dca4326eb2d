// Open file descriptors: the limit this process (and the servers it starts)
// runs under, and how many a process holds. Each TCP connection is one; a
// proxy relaying a stream over HTTP/1.1 holds two (client and upstream).
import { readdirSync, readFileSync } from 'node:fs'

/** This process's soft and hard limits on open files, from /proc (Linux), or undefined. */
export function fdLimits () {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))
    const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/)
    return { soft: Number(soft), hard: hard === 'unlimited' ? Infinity : Number(hard) }
  } catch {
    return undefined
  }
}

/** How many file descriptors `pid` holds now, or undefined. */
export function openFds (pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
  }
}

/** Samples `openFds(pid)` every `intervalMs`; `stop()` returns the peak. */
export function startFdSampler (pid, intervalMs = 1000) {
  let peak = 0
  const sample = () => { peak = Math.max(peak, openFds(pid) ?? 0) }
  sample()
  const timer = setInterval(sample, intervalMs)
  return {
    stop () {
      clearInterval(timer)
      sample()
      return peak
    }
  }
}
