/**
 * Moderations, image generation and speech, routed by `model` like the rest,
 * to OpenAI-protocol backends, with the official `openai` SDK as the client:
 * speech's binary answer streamed through as it comes, usage counted where
 * the upstream reports it, pinning and failover as on every route.
 */
import OpenAI from 'openai'
import t from 'tap'
import { startBerry, TOKEN } from '../helpers/berry.js'
import { gatewayConfig } from '../helpers/config.js'
import { image, moderation, speech } from '../helpers/fake-openai-apis.js'
import { startUpstream, status, type Behaviour } from '../helpers/fake-upstream.js'

/** One behaviour per path, as an OpenAI account answers them. */
const byPath = (routes: Record<string, Behaviour>): Behaviour => (req, res, received) => {
  const route = routes[received.url.split('?', 1)[0] ?? '']
  if (route === undefined) return status(404)(req, res, received)
  route(req, res, received)
}

t.test('moderations, images and speech through berry', async (t) => {
  const api = byPath({ '/v1/moderations': moderation(), '/v1/images/generations': image(), '/v1/audio/speech': speech(48_000) })
  const u = await startUpstream(api)
  t.teardown(() => u.close())
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { main: u.origin } }) })
  const openai = new OpenAI({ apiKey: TOKEN, baseURL: `${berry.url}/v1`, maxRetries: 0 })

  const moderated = await openai.moderations.create({ model: 'gpt-4o', input: 'hello' })
  t.match(moderated, { results: [{ flagged: false }] })
  t.match(u.received[0], { url: '/v1/moderations', json: { model: 'model-main', input: 'hello' } })

  const picture = await openai.images.generate({ model: 'gpt-4o', prompt: 'a berry' })
  t.equal(picture.data?.[0]?.b64_json, Buffer.from('png').toString('base64'))

  const started = performance.now()
  const audio = await openai.audio.speech.create({ model: 'gpt-4o', voice: 'alloy', input: 'Hello' })
  t.equal(audio.headers.get('content-type'), 'audio/mpeg')
  t.equal(audio.headers.get('x-berry-backend'), 'main')
  const reader = audio.body!.getReader()
  let bytes = 0
  let pieces = 0
  let firstAt = 0
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    if (pieces++ === 0) firstAt = performance.now() - started
    bytes += part.value.length
  }
  t.equal(bytes, 48_000, 'every byte of the audio')
  t.ok(pieces > 1, `streamed in ${pieces} pieces, the first after ${Math.round(firstAt)} ms`)

  await berry.log((l) => l.msg === 'berry request' && berry.logs.filter((x) => x.msg === 'berry request').length === 3)
  const lines = berry.logs.filter((l) => l.msg === 'berry request')
  t.match(lines.map((l) => [l.status, l.prompt_tokens, l.completion_tokens]), [[200, null, null], [200, 9, 1056], [200, null, null]], "the image's usage is counted; moderation and speech report none")
})

t.test('pinning and failover work on these routes too', async (t) => {
  const a = await startUpstream(status(503))
  const b = await startUpstream(moderation())
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin, b: b.origin } }), random: () => 0 })
  const res = await berry.post('/v1/moderations', { model: 'gpt-4o', input: 'x' })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-berry-backend'), 'b')
  t.equal(res.headers.get('x-berry-attempts'), '2')
  await res.arrayBuffer()
  const pinned = await berry.post('/v1/moderations', { model: 'gpt-4o', input: 'x', backend: 'a' })
  t.equal(pinned.status, 503)
  await pinned.arrayBuffer()
  const bare = await berry.post('/v1/moderations', { input: 'x' })
  t.equal(bare.status, 400, 'routed by model like the rest: a model is required')
  t.equal((await bare.json()).error.code, 'BERRY_ERR_INVALID_BODY')
})
