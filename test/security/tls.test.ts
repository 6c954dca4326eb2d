/**
 * Attack class: upstream TLS (a man in the middle holding a certificate
 * berry should not trust).
 *
 * reply-from's undici default does not verify certificates; berry's
 * dispatcher does. An upstream with a self-signed certificate is refused
 * (502, before any request, so the key never leaves) unless the provider
 * names its CA in `ca_file`; a certificate for another host is refused even
 * when its CA is trusted.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { findSecrets, leaksIn, startHardened, tally, TOKENS } from '../helpers/security.js'

const KEY = 'sk-tls-provider-KEY-9999'

/** A self-signed certificate (and key) for `san`, made with the openssl CLI. */
function makeCert (dir: string, name: string, san: string): { cert: string, key: string } {
  const cert = join(dir, `${name}.pem`)
  const key = join(dir, `${name}-key.pem`)
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=berry-test', '-addext', `subjectAltName=${san}`
  ], { stdio: 'ignore' })
  return { cert, key }
}

interface TlsUpstream { origin: string, requests: Array<{ url: string, authorization: string | undefined }> }

async function startTlsUpstream (t: { teardown (fn: () => unknown): void }, files: { cert: string, key: string }): Promise<TlsUpstream> {
  const requests: TlsUpstream['requests'] = []
  const server: Server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (req, res) => {
    requests.push({ url: req.url ?? '', authorization: req.headers.authorization })
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'tls ok' }, finish_reason: 'stop' }] }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  const { port } = server.address() as AddressInfo
  return { origin: `https://127.0.0.1:${port}`, requests }
}

function config (baseUrl: string, caFile?: string): string {
  return `
[providers.tls_upstream]
base_url = "${baseUrl}/v1"
api_key = "${KEY}"
timeout_seconds = 5
${caFile === undefined ? '' : `ca_file = "${caFile}"`}

[models.m]
name = "m"
[[models.m.backends]]
provider = "tls_upstream"
model = "m-upstream"

[users.bob]
token = "${TOKENS.bob}"
`
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra })

t.test('TLS: a self-signed upstream is refused unless its CA is named', async (t) => {
  const dir = t.testdir({})
  const good = makeCert(dir, 'good', 'IP:127.0.0.1,DNS:localhost')
  const other = makeCert(dir, 'other', 'IP:127.0.0.1,DNS:localhost')
  const wrongHost = makeCert(dir, 'wrong-host', 'DNS:elsewhere.example')
  const upstream = await startTlsUpstream(t, good)
  const port = new URL(upstream.origin).port

  const untrusted = 'Backend \'tls_upstream\' could not be reached: TLS certificate not trusted'
  let tried = 0
  // No ca_file, both spellings of the host.
  for (const base of [upstream.origin, `https://localhost:${port}`]) {
    const berry = await startHardened(t, { config: config(base) })
    for (const body of [chat(), chat({ backend: 'tls_upstream' }), chat({ stream: true })]) {
      const res = await berry.post('/v1/chat/completions', body, TOKENS.bob)
      t.equal(res.status, 502, `${base}: 502`)
      const answer = await res.json()
      t.same(answer.error, { message: untrusted, type: 'upstream_error', code: 'BERRY_ERR_UPSTREAM_UNREACHABLE' })
      tried++
    }
    t.same(leaksIn(berry), [])
    t.same(findSecrets(JSON.stringify(berry.logs), [KEY]), [])
  }
  t.equal(upstream.requests.length, 0, 'no request (and no key) crossed an untrusted connection')

  // ca_file naming another CA: still refused.
  const wrongCa = await startHardened(t, { config: config(upstream.origin, other.cert) })
  const refused = await wrongCa.post('/v1/chat/completions', chat(), TOKENS.bob)
  t.equal(refused.status, 502)
  t.equal((await refused.json()).error.message, untrusted)
  tried++
  t.equal(upstream.requests.length, 0)

  // ca_file naming the upstream's own certificate: trusted, both spellings.
  for (const base of [upstream.origin, `https://localhost:${port}`]) {
    const trusted = await startHardened(t, { config: config(base, good.cert) })
    const ok = await trusted.post('/v1/chat/completions', chat(), TOKENS.bob)
    t.equal(ok.status, 200, `${base} with ca_file: 200`)
    t.equal((await ok.json()).choices[0].message.content, 'tls ok')
    tried++
  }
  t.equal(upstream.requests.length, 2)
  t.equal(upstream.requests[0]?.authorization, `Bearer ${KEY}`)
  t.equal(upstream.requests[0]?.url, '/v1/chat/completions')

  // A trusted CA does not make a certificate for another host acceptable.
  const elsewhere = await startTlsUpstream(t, wrongHost)
  const mismatch = await startHardened(t, { config: config(elsewhere.origin, wrongHost.cert) })
  const res = await mismatch.post('/v1/chat/completions', chat(), TOKENS.bob)
  t.equal(res.status, 502)
  t.equal((await res.json()).error.message, 'Backend \'tls_upstream\' could not be reached: TLS certificate does not match the host')
  t.equal(elsewhere.requests.length, 0)
  tried++
  tally('tls: certificates', tried)
})
