/**
 * berry-health's discovery: from the weight view (`GET /smart-ai/weights`,
 * as the original's Python checker read it), falling back to
 * `GET /admin/backends`, then to named backends. Against small node:http
 * servers on port 0 answering each shape, and against a real berry.
 */
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ownFetch, type Connection } from '../../cli/client.js'
import { discover } from '../../cli/discover.js'
import { ADMIN_TOKEN, startFleet } from '../helpers/cli.js'

async function server (t: Test, routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>): Promise<{ url: string, seen: string[] }> {
  const seen: string[] = []
  const s = createServer((req, res) => {
    seen.push(req.url ?? '')
    const route = routes[(req.url ?? '').split('?')[0] ?? '']
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end('{"error":{"message":"not found"}}')
      return
    }
    route(req, res)
  })
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => s.close(() => resolve())))
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen }
}

const send = (body: unknown, code = 200) => (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(code, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function connection (t: Test, url: string, token = 'any-token'): Connection {
  const { fetch, close } = ownFetch(2000)
  t.teardown(close)
  return { url, token, timeoutMs: 2000, fetch, signal: undefined }
}

/** The original system's view (its Rust router, abridged): no `key` in `models`, keys in `available_models`. */
const ORIGINAL_VIEW = {
  models: [
    { name: 'gpt-4', strategy: 'SmartAi', enabled: true, backends: [{ provider: 'openai_primary', enabled: true }, { provider: 'azure_openai', enabled: false }] },
    { name: 'claude-3-opus', strategy: 'SmartAi', enabled: false, backends: [{ provider: 'anthropic', enabled: true }] }
  ],
  total_smart_ai_models: 2,
  available_models: [{ key: 'gpt_4', name: 'gpt-4', enabled: true }, { key: 'claude_3_opus', name: 'claude-3-opus', enabled: false }],
  timestamp: '2025-07-05T01:35:13+00:00'
}

t.test('the weight view lists the pairs, disabled ones noted', async (t) => {
  const { url, seen } = await server(t, { '/smart-ai/weights': send(ORIGINAL_VIEW) })
  const found = await discover(connection(t, url), { models: [], backends: [] })
  t.same(found.targets, [{ model: 'gpt-4', backend: 'openai_primary' }])
  t.equal(found.exact, true)
  t.same(found.notes, ['skipped (disabled): azure_openai (gpt-4), anthropic (claude-3-opus)'])
  t.same(seen, ['/smart-ai/weights?enabled_only=false'], 'one request, disabled backends included')
  const byKey = await discover(connection(t, url), { models: ['gpt_4'], backends: ['azure_openai'] })
  t.same(byKey.targets, [{ model: 'gpt-4', backend: 'azure_openai' }], 'a model named by its key; a named backend even when disabled')
})

t.test('a berry without the weight view: /admin/backends, as before', async (t) => {
  const { url, seen } = await server(t, {
    '/admin/backends': send({ models: [{ model: 'gpt-4o', key: 'gpt_4o', enabled: true, backends: [{ provider: 'a', enabled: true }] }] })
  })
  const found = await discover(connection(t, url), { models: [], backends: [] })
  t.same(found.targets, [{ model: 'gpt-4o', backend: 'a' }])
  t.same(seen, ['/smart-ai/weights?enabled_only=false', '/admin/backends'])
})

t.test('a token that may not list: the named backends with every model, the refusing route named', async (t) => {
  const refuse = send({ error: { message: "This endpoint needs a user with the 'admin' tag", code: 'BERRY_ERR_ADMIN_ONLY' } }, 403)
  const { url, seen } = await server(t, { '/smart-ai/weights': refuse, '/v1/models': send({ data: [{ id: 'm1' }, { id: 'm2' }] }) })
  const found = await discover(connection(t, url), { models: [], backends: ['x'] })
  t.same(found.targets, [{ model: 'm1', backend: 'x' }, { model: 'm2', backend: 'x' }])
  t.equal(found.exact, false)
  t.match(found.notes[0], "GET /smart-ai/weights was refused (403: This endpoint needs a user with the 'admin' tag)")
  t.same(seen, ['/smart-ai/weights?enabled_only=false', '/v1/models'])
})

t.test('a real berry: the admin token discovers every enabled backend from the view', async (t) => {
  const { berry } = await startFleet(t)
  const found = await discover(connection(t, berry.url, ADMIN_TOKEN), { models: [], backends: [] })
  t.same(found.targets.map((p) => `${p.backend}/${p.model}`).sort(), ['dead/gpt-4o', 'fast/claude_sonnet_4', 'fast/gpt-4o', 'slow/gpt-4o'])
  t.same(found.notes, ['skipped (disabled): off (gpt-4o)'])
})
