/**
 * A TCP relay in front of a server that models a client on a slow real network
 * still uploading a large body: what the server sends back is held until the
 * whole upload has been forwarded, and a server that closes or resets before
 * that makes the relay reset the client without delivering it, as a TCP
 * stack does with unread data when a reset arrives. On loopback, without
 * this, a fetch client reads a 413 before the reset lands and the bug that
 * real networks show never appears.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

interface Teardown { teardown (fn: () => unknown): void }

export async function uploadFirstRelay (t: Teardown, targetPort: number): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    const held: Buffer[] = []
    let uploaded = false
    let expected = Infinity
    let forwarded = 0
    let head = Buffer.alloc(0)
    const release = (): void => {
      uploaded = true
      for (const chunk of held.splice(0)) client.write(chunk)
    }
    // A slow uplink: the upload goes on well after the server could answer.
    const queue: Buffer[] = []
    const pace = setInterval(() => {
      const chunk = queue.shift()
      if (chunk === undefined) return
      forwarded += chunk.length
      upstream.write(chunk)
      if (queue.length === 0) client.resume()
      if (forwarded >= expected && !uploaded) release()
    }, 2)
    client.on('data', (chunk: Buffer) => {
      if (expected === Infinity) {
        // Learn the body's length from the request head.
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end >= 0) {
          const length = /content-length:\s*(\d+)/i.exec(head.subarray(0, end).toString('latin1'))
          expected = end + 4 + Number(length?.[1] ?? 0)
        }
      }
      for (let at = 0; at < chunk.length; at += 16_384) queue.push(chunk.subarray(at, at + 16_384))
      client.pause()
    })
    upstream.on('data', (chunk: Buffer) => {
      if (uploaded) client.write(chunk)
      else held.push(chunk)
    })
    const lost = (): void => { if (!uploaded) client.resetAndDestroy(); else client.end() }
    upstream.on('error', lost)
    upstream.on('end', lost)
    client.on('error', () => upstream.destroy())
    client.on('close', () => { clearInterval(pace); upstream.destroy() })
    upstream.on('close', () => clearInterval(pace))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return (server.address() as AddressInfo).port
}
