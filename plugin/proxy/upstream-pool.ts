/**
 * One upstream origin's connection pool.
 *
 * - TLS certificates are verified, with a provider's `ca_file` trusted
 *   beside the system CAs (one TLS context per pool, not per connection).
 * - Over HTTP/1.1 a connection carries one request at a time: pipelining
 *   would queue an answer behind a slow completion.
 * - With `upstream_http2`, https connections also offer HTTP/2 (ALPN). A
 *   connection the server takes to h2 carries up to
 *   `H2_STREAMS_PER_CONNECTION` streams; one it keeps on HTTP/1.1 stays at
 *   one request. undici sizes this by `pipelining`, per connection, so it is
 *   set on each connection as its protocol becomes known.
 */
import { createSecureContext, rootCertificates } from 'node:tls'
import { buildConnector, Client, Pool } from 'undici'

/**
 * Streams per HTTP/2 connection: the limit most servers advertise (Node's
 * and undici's default; Google's). A server that allows fewer makes Node
 * hold the rest until a stream ends.
 */
export const H2_STREAMS_PER_CONNECTION = 100

export interface OriginPoolOptions {
  readonly connections: number
  readonly connectTimeoutMs: number
  /** A PEM CA to trust beside the system ones. */
  readonly ca: string | undefined
  readonly http2: boolean
}

export function createOriginPool (origin: string | URL, options: OriginPoolOptions): Pool {
  const connector = buildConnector({
    rejectUnauthorized: true,
    timeout: options.connectTimeoutMs,
    allowH2: options.http2,
    // One context for the pool: a `ca` list given to each connection makes
    // Node parse every root certificate again, about 19 ms of CPU per
    // connection (measured), against 1.5 ms for the whole handshake.
    ...(options.ca === undefined ? {} : { secureContext: createSecureContext({ ca: [...rootCertificates, options.ca] }) })
  })
  return new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    allowH2: options.http2,
    factory (url, clientOptions) {
      const client = new Client(url, {
        ...clientOptions,
        connect (connectOptions, callback) {
          connector(connectOptions, (...result) => {
            // Set before undici reads it for this connection.
            if (result[0] === null) client.pipelining = 'alpnProtocol' in result[1] && result[1].alpnProtocol === 'h2' ? H2_STREAMS_PER_CONNECTION : 1
            callback(...result)
          })
        }
      })
      return client
    }
  })
}
