/**
 * A body over `body_limit` is refused before it is read (413). Fastify then
 * closes the connection at once, while the client may still be uploading:
 * its next write fails (EPIPE), the server's kernel answers the unread bytes
 * with a reset, and a TCP stack that receives a reset throws away what the
 * client had not read yet, the 413 included. The official `openai` SDK
 * (fetch-based) then reports `APIConnectionError: Connection error`.
 *
 * So berry does what web servers call a lingering close: it keeps the
 * connection, reads and discards the rest of the body, bounded by a byte cap
 * and a deadline, and lets the client finish its upload and read the 413.
 * A body that ends in time leaves the connection reusable.
 */
import type { IncomingMessage } from 'node:http'

export interface LingerLimits {
  /** Most bytes read and thrown away; a longer body is cut off. */
  readonly maxBytes: number
  /** Longest time given to the rest of the body. */
  readonly maxMs: number
}

export const DEFAULT_LINGER: LingerLimits = Object.freeze({ maxBytes: 64 * 1024 * 1024, maxMs: 10_000 })

/**
 * Reads and discards the rest of `raw`'s body. `keepConnection` undoes the
 * `connection: close` the refusal set (Fastify's would end the socket as
 * soon as the 413 is written); it is not called when the declared body is
 * over the cap, which keeps the old behaviour: the connection closes.
 */
export function lingerOnRefusedBody (raw: IncomingMessage, keepConnection: () => void, limits: LingerLimits = DEFAULT_LINGER): void {
  if (raw.complete || raw.destroyed) return
  if (Number(raw.headers['content-length']) > limits.maxBytes) return
  keepConnection()
  let read = 0
  const timer = setTimeout(() => { stop(true) }, limits.maxMs)
  timer.unref()
  const onData = (chunk: Buffer): void => {
    read += chunk.length
    if (read > limits.maxBytes) stop(true)
  }
  const onDone = (): void => { stop(false) }
  function stop (cut: boolean): void {
    clearTimeout(timer)
    raw.off('data', onData)
    raw.off('end', onDone)
    raw.off('close', onDone)
    if (cut) raw.socket.destroy()
  }
  raw.on('data', onData)
  raw.once('end', onDone)
  raw.once('close', onDone)
  raw.resume()
}
