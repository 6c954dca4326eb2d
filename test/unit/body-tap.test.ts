/** What berry does as the relayed body passes and ends (no HTTP: the dispatcher drives the tap). */
import t from 'tap'
import { tapBody } from '../../plugin/proxy/body-tap.js'

function recording () {
  const chunks: string[] = []
  const ends: Array<string | undefined> = []
  return {
    chunks,
    ends,
    watcher: {
      onChunk: (chunk: Buffer) => { chunks.push(chunk.toString()) },
      onEnd: ({ error }: { error: string | undefined }) => { ends.push(error) }
    }
  }
}

const socketError = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
const bodyTimeout = Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' })

t.test('a clean end: chunks seen in order, one end without error, nothing added', async (t) => {
  const r = recording()
  const tap = tapBody({ sse: true, provider: 'a', watcher: r.watcher })
  tap.onChunk(Buffer.from('one'))
  tap.onChunk(Buffer.from('two'))
  t.equal(tap.onEnd(undefined), undefined)
  t.same(r.chunks, ['one', 'two'])
  t.same(r.ends, [undefined])
})

t.test('an SSE body that breaks off ends with an OpenAI-shaped error event', async (t) => {
  const r = recording()
  const last = tapBody({ sse: true, provider: 'alpha', watcher: r.watcher }).onEnd(socketError)
  t.ok(last !== undefined)
  const text = last!.toString()
  t.match(text, /^\n\ndata: /)
  t.ok(text.endsWith('\n\n'))
  t.match(JSON.parse(text.trim().replace(/^data: /, '')), {
    error: { type: 'upstream_error', code: 'BERRY_ERR_STREAM_INTERRUPTED', message: /^The stream from backend 'alpha' broke off: / }
  })
  t.equal(r.ends.length, 1)
  t.type(r.ends[0], 'string', 'the watcher learns why')
})

t.test('a silent upstream is named as such', async (t) => {
  const r = recording()
  const last = tapBody({ sse: true, provider: 'a', watcher: r.watcher }).onEnd(bodyTimeout)
  t.match(last!.toString(), /broke off: the upstream went silent/)
  t.same(r.ends, ['the upstream went silent'])
})

t.test('a JSON body that breaks off is left to break: no last chunk', async (t) => {
  const r = recording()
  t.equal(tapBody({ sse: false, provider: 'a', watcher: r.watcher }).onEnd(socketError), undefined)
  t.equal(r.ends.length, 1)
  t.type(r.ends[0], 'string')
})

t.test('the end is reported once, whatever comes after', async (t) => {
  const r = recording()
  const tap = tapBody({ sse: true, provider: 'a', watcher: r.watcher })
  t.equal(tap.onEnd(undefined), undefined)
  t.equal(tap.onEnd(socketError), undefined, 'an error after a clean end adds nothing')
  t.same(r.ends, [undefined])
})

t.test('works without a watcher', async (t) => {
  const tap = tapBody({ sse: true, provider: 'a', watcher: undefined })
  tap.onChunk(Buffer.from('x'))
  t.ok(tap.onEnd(socketError))
})
