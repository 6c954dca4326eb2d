/**
 * The smallest gateway that uses the protocol library the way the proxy is
 * meant to (types.ts StreamConverter), on a real socket, so the official
 * SDKs can be its clients in round-trip tests. It is a harness for the
 * library, not berry's proxy: one backend, no failover, no health.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chain } from '../../../plugin/protocols/chain.js'
import { includeUsage } from '../../../plugin/protocols/openai-request.js'
import type { Api, ClientProtocol, Protocol, StreamConverter } from '../../../plugin/protocols/types.js'
import { streamErrorEvent } from '../../../plugin/proxy/body-tap.js'
import { BerryError, openAIError } from '../../../plugin/errors.js'

export interface Backend {
  protocol: Protocol
  origin: string
  basePath: string
  query?: string
  apiKey: string
  model: string
}

const ROUTES: Readonly<Record<string, Api>> = { '/v1/chat/completions': 'chat', '/v1/completions': 'completions', '/v1/embeddings': 'embeddings' }

function send (res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

export async function startGateway (backend: Backend, client: ClientProtocol): Promise<{ origin: string, close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      handle(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, res).catch((error: unknown) => {
        if (res.headersSent) res.destroy()
        else if (error instanceof BerryError) send(res, error.statusCode, openAIError(error.message, error.type, error.code))
        else send(res, 500, openAIError(String(error), 'api_error', null))
      })
    })
  })

  async function handle (url: string, clientBody: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const path = url.split('?')[0] ?? ''
    const reverse = path === '/v1/messages'
    const api: Api | undefined = reverse ? 'chat' : ROUTES[path]
    const fail = (status: number, body: ReturnType<typeof openAIError>): void => { send(res, status, reverse ? client.error(status, body) : body) }
    if (api === undefined) {
      fail(404, openAIError('no route', 'not_found_error', null))
      return
    }
    let body: Record<string, unknown>
    let request
    try {
      body = reverse ? client.request(clientBody) : clientBody
      request = backend.protocol.request(api, body, { model: backend.model, basePath: backend.basePath, query: backend.query ?? '', defaultMaxTokens: 4096 })
    } catch (error) {
      if (!(error instanceof BerryError)) throw error
      fail(error.statusCode, openAIError(error.message, error.type, error.code))
      return
    }
    const upstream = await fetch(backend.origin + request.path, {
      method: 'POST',
      headers: { ...backend.protocol.credentials(backend.apiKey), 'content-type': 'application/json' },
      body: JSON.stringify(request.body)
    })
    if (!upstream.ok) {
      const converted = backend.protocol.error(upstream.status, await upstream.text())
      fail(converted.status, converted.body)
      return
    }
    if (!request.stream) {
      const answer = backend.protocol.answer(api, await upstream.json(), { model: backend.model, body })
      send(res, 200, reverse ? client.answer(answer) : answer)
      return
    }
    const forward = backend.protocol.stream(api, { model: backend.model, includeUsage: includeUsage(body) })
    const converter: StreamConverter = reverse ? chain(forward, client.stream()) : forward
    await relay(upstream, converter, res, reverse ? client : undefined, (status, body) => { fail(status, body) })
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Holds bytes back until the converter commits, as the proxy does; fails before commit with a status, after with an error event. */
async function relay (upstream: Response, converter: StreamConverter, res: ServerResponse, client: ClientProtocol | undefined, fail: (status: number, body: ReturnType<typeof openAIError>) => void): Promise<void> {
  const held: Buffer[] = []
  const out = (bytes: Buffer | undefined): void => {
    if (bytes === undefined) return
    if (!res.headersSent && !converter.committed) {
      held.push(bytes)
      return
    }
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const piece of held.splice(0)) res.write(piece)
    res.write(bytes)
  }
  const failed = (): boolean => {
    const failure = converter.failure
    if (failure === undefined) return false
    if (!res.headersSent && !converter.committed) {
      fail(failure.status, openAIError(failure.message, failure.type, null))
      return true
    }
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const piece of held.splice(0)) res.write(piece)
    res.end(client === undefined ? streamErrorEvent('fake', failure.message) : client.streamError(failure))
    return true
  }
  if (upstream.body === null) throw new Error('no body')
  for await (const chunk of upstream.body) {
    out(converter.push(Buffer.from(chunk)))
    if (failed()) return
  }
  const tail = converter.end()
  if (failed()) return
  if (!res.headersSent) res.writeHead(200, { 'content-type': 'text/event-stream' })
  for (const piece of held.splice(0)) res.write(piece)
  res.end(tail)
}
