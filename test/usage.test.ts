/**
 * Token usage: the incremental scanner (pure, every chunk boundary), and
 * accounting over real sockets from JSON answers and from streams with
 * `stream_options.include_usage`, pinned requests included.
 */
import t, { type Test } from 'tap'
import { MAX_OBJECT_BYTES, scanUsage, toUsage, UsageScanner } from '../plugin/accounting/usage-scanner.js'
import type { UsageRecord } from '../plugin/accounting/usage-ledger.js'
import { MemoryUsageStore } from '../plugin/cluster/memory-usage-store.js'
import { ADMIN_TOKEN, specConfig, startBerry, TOKEN } from './helpers/berry.js'
import { completion, json, sse, startUpstream } from './helpers/fake-upstream.js'

/** Every way to cut `text` in two, then into single bytes. */
function splits (text: string): Buffer[][] {
  const bytes = Buffer.from(text)
  const out: Buffer[][] = []
  for (let i = 0; i <= bytes.length; i++) out.push([bytes.subarray(0, i), bytes.subarray(i)])
  out.push([...bytes].map((b) => Buffer.from([b])))
  return out
}

const USAGE = { promptTokens: 11, completionTokens: 7, totalTokens: 18 }

t.test('scanner: a JSON completion cut at every byte', async (t) => {
  const body = JSON.stringify(completion('gpt-4o', 'héllo "usage" {', { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 }))
  for (const chunks of splits(body)) {
    t.same(scanUsage(chunks), USAGE)
  }
})

t.test('scanner: pretty-printed JSON with details and a trailing field, cut at every byte', async (t) => {
  const body = JSON.stringify({
    id: 'x',
    usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 2, note: 'a } in "text"' } },
    system_fingerprint: 'fp'
  }, null, 2)
  for (const chunks of splits(body)) t.same(scanUsage(chunks), USAGE)
})

t.test('scanner: an SSE stream with usage:null chunks and a final usage chunk', async (t) => {
  const chunk = (content: string): string => `data: ${JSON.stringify({ choices: [{ delta: { content } }], usage: null })}\n\n`
  const last = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } })}\n\n`
  const stream = chunk('a') + chunk('"usage": {"prompt_tokens": 999}') + last + 'data: [DONE]\n\n'
  for (const chunks of splits(stream)) t.same(scanUsage(chunks), USAGE)
})

t.test('scanner: no usage, null usage, a string value named usage', async (t) => {
  t.equal(scanUsage([Buffer.from(JSON.stringify(completion('m').choices))]), undefined)
  t.equal(scanUsage([Buffer.from('{"usage": null}')]), undefined)
  t.equal(scanUsage([Buffer.from('{"note": "usage", "x": {"a": 1}}')]), undefined)
  t.equal(scanUsage([Buffer.from('{"usage": "lots"}')]), undefined)
})

t.test('scanner: an oversized object is given up, and a later one still found', async (t) => {
  const huge = `{"usage": {"prompt_tokens": 1, "pad": "${'x'.repeat(MAX_OBJECT_BYTES)}"}}`
  t.equal(scanUsage([Buffer.from(huge)]), undefined)
  const scanner = new UsageScanner()
  scanner.push(Buffer.from(huge))
  scanner.push(Buffer.from('\n{"usage": {"prompt_tokens": 3, "completion_tokens": 4}}'))
  t.same(scanner.usage, { promptTokens: 3, completionTokens: 4, totalTokens: 7 })
})

t.test('scanner: an object of MAX_OBJECT_BYTES is read, one byte more is not, whole or in pieces', async (t) => {
  const object = (size: number): string => {
    const head = '{"prompt_tokens": 5, "completion_tokens": 6, "pad": "'
    return head + 'x'.repeat(size - head.length - 2) + '"}'
  }
  const pieces = (text: string, size: number): Buffer[] => {
    const bytes = Buffer.from(text)
    const out: Buffer[] = []
    for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
    return out
  }
  for (const size of [1, 7, 100, 511, 513, 4096, 100_000]) {
    t.same(scanUsage(pieces(`{"usage": ${object(MAX_OBJECT_BYTES)}}`, size)), { promptTokens: 5, completionTokens: 6, totalTokens: 11 }, `exactly the limit, pieces of ${size}`)
    t.equal(scanUsage(pieces(`{"usage": ${object(MAX_OBJECT_BYTES + 1)}}`, size)), undefined, `one byte over, pieces of ${size}`)
  }
})

t.test('toUsage: OpenAI names, input/output names, embeddings', async (t) => {
  t.same(toUsage({ prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 }), { promptTokens: 2, completionTokens: 3, totalTokens: 5 })
  t.same(toUsage({ input_tokens: 2, output_tokens: 3 }), { promptTokens: 2, completionTokens: 3, totalTokens: 5 })
  t.same(toUsage({ prompt_tokens: 8, total_tokens: 8 }), { promptTokens: 8, completionTokens: 0, totalTokens: 8 })
  t.equal(toUsage({ completion_tokens: 3 }), undefined)
  t.equal(toUsage({ prompt_tokens: -1, completion_tokens: 3 }), undefined)
})

t.test('memory store: totals per UTC day, user, model and backend; queries; quota view', async (t) => {
  const store = new MemoryUsageStore()
  const day1 = Date.UTC(2026, 10, 21, 23, 59, 59, 999)
  const day2 = Date.UTC(2026, 10, 22, 0, 0, 0, 0)
  const base: UsageRecord = { requestId: 'r', user: 'bob', model: 'm', backend: 'p', pinned: false, status: 200, latencyMs: 1, attempts: 1, promptTokens: 1, completionTokens: 2, totalTokens: 3, tokensReported: true, time: day1 }
  store.record(base)
  store.record({ ...base, pinned: true, status: 500, promptTokens: 0, completionTokens: 0, totalTokens: 0 })
  store.record({ ...base, user: 'amy', backend: 'q' })
  store.record({ ...base, time: day2, promptTokens: 10, completionTokens: 20 })
  t.same(await store.totals(), [
    { user: 'amy', model: 'm', backend: 'q', day: '2026-11-21', requests: 1, errors: 0, prompt_tokens: 1, completion_tokens: 2 },
    { user: 'bob', model: 'm', backend: 'p', day: '2026-11-21', requests: 2, errors: 1, prompt_tokens: 1, completion_tokens: 2 },
    { user: 'bob', model: 'm', backend: 'p', day: '2026-11-22', requests: 1, errors: 0, prompt_tokens: 10, completion_tokens: 20 }
  ], 'the last millisecond of a UTC day and the first of the next are two days')
  t.same((await store.totals({ user: 'bob', from: '2026-11-22' })).map((r) => r.day), ['2026-11-22'])
  t.same((await store.totals({ to: '2026-11-21' })).map((r) => r.user), ['amy', 'bob'])
  t.same(store.tokensUsed('bob', day2), { day: 30, month: 33 }, 'the new day starts at 0; the month goes on')
  t.same(store.tokensUsed('bob', Date.UTC(2026, 11, 1)), { day: 0, month: 0 }, 'a new month starts at 0')
})

async function setup (t: Test) {
  const openai = await startUpstream(json())
  const claude = await startUpstream(json())
  t.teardown(() => openai.close())
  t.teardown(() => claude.close())
  const records: UsageRecord[] = []
  const berry = await startBerry(t, { config: specConfig({ openai: openai.origin, claude: claude.origin }), onUsage: (r) => { records.push(r) } })
  return { openai, claude, berry, records }
}

t.test('usage from a JSON answer and from a stream with include_usage, pinned counted alike', async (t) => {
  const { openai, berry, records } = await setup(t)
  const plain = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
  t.equal(plain.status, 200)
  await plain.json()

  openai.behave(sse({ chunks: 4, usage: true }))
  const streamed = await berry.post('/v1/chat/completions', {
    model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true }, backend: 'openai_official'
  }, ADMIN_TOKEN)
  const text = await streamed.text()
  t.ok(text.endsWith('data: [DONE]\n\n'), 'stream passed through whole')
  t.equal(openai.received[1]!.json.stream_options.include_usage, true, 'stream_options reach the upstream')

  openai.behave(sse({ chunks: 2 }))
  const bare = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], stream: true })
  await bare.text()

  t.equal(records.length, 3)
  t.match(records[0], { user: 'alice', model: 'gpt-4o', backend: 'openai_official', pinned: false, status: 200, attempts: 1, promptTokens: 5, completionTokens: 1, totalTokens: 6, tokensReported: true })
  t.match(records[1], { user: 'ops', model: 'gpt-4o', backend: 'openai_official', pinned: true, status: 200, promptTokens: 7, completionTokens: 4, totalTokens: 11, tokensReported: true })
  t.match(records[2], { user: 'alice', pinned: false, promptTokens: 0, completionTokens: 0, tokensReported: false })
  t.ok(records.every((r) => typeof r.latencyMs === 'number' && r.latencyMs >= 0 && typeof r.requestId === 'string'))

  const day = new Date().toISOString().slice(0, 10)
  t.same(await berry.app.berry.usage(), [
    { user: 'alice', model: 'gpt-4o', backend: 'openai_official', day, requests: 2, errors: 0, prompt_tokens: 5, completion_tokens: 1 },
    { user: 'ops', model: 'gpt-4o', backend: 'openai_official', day, requests: 1, errors: 0, prompt_tokens: 7, completion_tokens: 4 }
  ])
  const admin = await berry.get('/admin/usage', ADMIN_TOKEN)
  t.equal(admin.status, 200)
  t.same((await admin.json()).usage, await berry.app.berry.usage(), 'GET /admin/usage answers the same records')
  t.equal((await berry.get('/admin/usage')).status, 403, 'admins only')
  const bad = await berry.get('/admin/usage?from=2026-13-01', ADMIN_TOKEN)
  t.equal(bad.status, 400)
  t.match(await bad.json(), { error: { code: 'BERRY_ERR_INVALID_QUERY', message: /'from' must be a day as YYYY-MM-DD/ } })
})

t.test("the spec's pinned 500s are accounted to the user", async (t) => {
  const { berry, records } = await setup(t)
  const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], backend: 'disabled_backend' })
  t.equal(res.status, 500)
  await res.arrayBuffer()
  const unknown = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [], backend: 'no-such-provider' })
  await unknown.arrayBuffer()
  t.match(records, [
    { user: 'alice', model: 'gpt-4o', backend: 'disabled_backend', pinned: true, status: 500, attempts: 0, tokensReported: false },
    { user: 'alice', model: 'gpt-4o', backend: '', pinned: true, status: 500 }
  ])
  t.match(await berry.app.berry.usage(), [{ user: 'alice', backend: '', requests: 1, errors: 1 }, { user: 'alice', backend: 'disabled_backend', requests: 1, errors: 1 }])
})

t.test('an onUsage hook that throws or rejects is logged, the request unharmed', async (t) => {
  const openai = await startUpstream(json())
  t.teardown(() => openai.close())
  let calls = 0
  const berry = await startBerry(t, {
    config: specConfig({ openai: openai.origin, claude: openai.origin }),
    onUsage: () => { calls++; if (calls === 1) throw new Error('db down'); return Promise.reject(new Error('db still down')) }
  })
  for (let i = 0; i < 2; i++) {
    const res = await berry.post('/v1/chat/completions', { model: 'gpt-4o', messages: [] }, TOKEN)
    t.equal(res.status, 200)
    await res.arrayBuffer()
  }
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(calls, 2)
  t.equal(berry.logs.filter((l) => l.msg === 'berry: onUsage failed').length, 2)
})
