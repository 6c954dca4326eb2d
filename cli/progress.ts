/**
 * A spinner with a count on stderr while requests run, on a terminal only:
 * piped output and logs never see it.
 */
import type { Output } from './output.js'

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

export interface Progress {
  /** One more request finished. */
  tick (): void
  stop (): void
}

export function startProgress (output: Output, label: string, total: number): Progress {
  if (!output.interactive) return { tick () {}, stop () {} }
  let done = 0
  let frame = 0
  const draw = (): void => output.status(`${FRAMES[frame++ % FRAMES.length] as string} ${label} ${done}/${total}`)
  draw()
  const timer = setInterval(draw, 80)
  // A forgotten spinner must not keep the process alive.
  timer.unref()
  return {
    tick () { done++ },
    stop () {
      clearInterval(timer)
      output.status('')
    }
  }
}
