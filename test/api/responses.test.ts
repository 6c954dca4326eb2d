/**
 * OpenAI's Responses API through berry, with the official `openai` SDK as the
 * client: plain and streamed, usage counted, stored responses read back from
 * the backend that made them (and only by their user), `previous_response_id`
 * following its response, an unknown id a 404, never a guess.
 */
import OpenAI from 'openai'
import t, { type Test } from 'tap'
import { ADMIN_TOKEN, startBerry, TOKEN } from '../helpers/berry.js'
import { gatewayConfig } from '../helpers/config.js'
import { responsesApi } from '../helpers/fake-openai-apis.js'
import { startUpstream, type FakeUpstream } from '../helpers/fake-upstream.js'

async function two (t: Test): Promise<{ a: FakeUpstream, b: FakeUpstream }> {
  const a = await startUpstream(responsesApi('a'))
  const b = await startUpstream(responsesApi('b'))
  t.teardown(() => Promise.all([a.close(), b.close()]))
  return { a, b }
}

const client = (url: string, token = TOKEN): OpenAI => new OpenAI({ apiKey: token, baseURL: `${url}/v1`, maxRetries: 0 })

t.test('responses.create, plain and streamed, with usage counted from the response and from response.completed', async (t) => {
  const { a, b } = await two(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin, b: b.origin } }), random: () => 0 })
  const openai = client(berry.url)
  const plain = await openai.responses.create({ model: 'gpt-4o', input: 'Hello' })
  t.equal(plain.output_text, 'Hello from a')
  t.match(plain.usage, { input_tokens: 11, output_tokens: 4 })
  t.match(a.received[0], { url: '/v1/responses', json: { model: 'model-a', input: 'Hello' } })

  const events = []
  for await (const event of await openai.responses.create({ model: 'gpt-4o', input: 'Hi', stream: true })) events.push(event)
  t.equal(events[0]?.type, 'response.created')
  t.equal(events.at(-1)?.type, 'response.completed')
  t.equal(events.filter((e) => e.type === 'response.output_text.delta').map((e) => 'delta' in e ? e.delta : '').join(''), 'Hello from a')

  await berry.log((l) => l.msg === 'berry request' && l.prompt_tokens !== null && berry.logs.filter((x) => x.msg === 'berry request').length === 2)
  t.match(await berry.app.berry.usage(), [{ user: 'alice', backend: 'a', requests: 2, prompt_tokens: 22, completion_tokens: 8 }])
  t.equal(b.received.length, 0)
})

t.test('a stored response is read back from its creator, whatever the draw, and only by its user', async (t) => {
  const { a, b } = await two(t)
  let draw = 0
  // 0.9 picks b (weights 1:1), 0 picks a: the reads would go elsewhere if drawn.
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin, b: b.origin } }), random: () => [0.9, 0][draw++ % 2]! })
  const openai = client(berry.url)
  const made = await openai.responses.create({ model: 'gpt-4o', input: 'Remember me' })
  t.match(made.id, /^resp_b_/)
  for (let i = 0; i < 4; i++) {
    const again = await openai.responses.retrieve(made.id)
    t.equal(again.output_text, 'stored by b', `read ${i + 1} from its creator`)
  }
  const items = await openai.responses.inputItems.list(made.id)
  t.match(items.data[0], { type: 'message', content: [{ type: 'input_text', text: 'Remember me' }] })
  t.equal(a.received.length, 0, 'no read went to a')

  const follow = await openai.responses.create({ model: 'gpt-4o', input: 'And then?', previous_response_id: made.id })
  t.equal(follow.output_text, `Hello from b after ${made.id}`, 'previous_response_id goes where its response lives')

  const stranger = client(berry.url, ADMIN_TOKEN)
  const refused = await stranger.responses.retrieve(made.id).then(() => undefined, (err: unknown) => err)
  t.ok(refused instanceof OpenAI.NotFoundError, "another user's response is not found, as an unknown one")

  const unknown = await openai.responses.retrieve('resp_never_made').then(() => undefined, (err: unknown) => err)
  t.ok(unknown instanceof OpenAI.NotFoundError)
  if (unknown instanceof OpenAI.APIError) t.match(unknown.error, { code: 'BERRY_ERR_RESPONSE_NOT_FOUND' })
  const lost = await openai.responses.create({ model: 'gpt-4o', input: 'x', previous_response_id: 'resp_never_made' }).then(() => undefined, (err: unknown) => err)
  t.ok(lost instanceof OpenAI.NotFoundError, 'an unknown previous_response_id is a 404 too, never a guess')

  await openai.responses.delete(made.id)
  t.notOk(b.received.at(-1)?.body, 'the delete went without a body')
  const gone = await openai.responses.retrieve(made.id).then(() => undefined, (err: unknown) => err)
  t.ok(gone instanceof OpenAI.NotFoundError, 'a deleted response is forgotten')
  t.equal(a.received.length, 0)
})

t.test('reading a stored response back spends no tokens', async (t) => {
  const { a } = await two(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin } }) })
  const openai = client(berry.url)
  const made = await openai.responses.create({ model: 'gpt-4o', input: 'x' })
  await openai.responses.retrieve(made.id)
  await berry.log((l) => l.msg === 'berry request' && berry.logs.filter((x) => x.msg === 'berry request').length === 2)
  t.match(await berry.app.berry.usage(), [{ requests: 2, prompt_tokens: 11, completion_tokens: 4 }])
})

t.test('store: false is not remembered; a model served by no OpenAI backend is a clear 400', async (t) => {
  const { a } = await two(t)
  const berry = await startBerry(t, { config: gatewayConfig({ providers: { a: a.origin } }) })
  const openai = client(berry.url)
  const ephemeral = await openai.responses.create({ model: 'gpt-4o', input: 'x', store: false })
  const lookup = await openai.responses.retrieve(ephemeral.id).then(() => undefined, (err: unknown) => err)
  t.ok(lookup instanceof OpenAI.NotFoundError)

  const claudeOnly = await startBerry(t, {
    config: gatewayConfig({ providers: { c: { origin: a.origin, backend_type: 'claude' } } })
  })
  const res = await claudeOnly.post('/v1/responses', { model: 'gpt-4o', input: 'x' })
  t.equal(res.status, 400)
  t.match((await res.json()).error, { code: 'BERRY_ERR_ROUTE_NOT_SERVED', message: /does not serve \/v1\/responses/ })
})
