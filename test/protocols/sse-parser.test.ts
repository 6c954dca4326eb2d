/** The shared SSE parser: bytes in, events out, however the bytes are cut. */
import { deepStrictEqual } from 'node:assert'
import t from 'tap'
import fc from 'fast-check'
import { SseParser, type SseEvent } from '../../plugin/protocols/sse-parser.js'
import { bytewise, randomPieces } from './support/pieces.js'

function parse (pieces: Iterable<Buffer>, options: { maxEventBytes?: number } = {}): SseEvent[] {
  const events: SseEvent[] = []
  const parser = new SseParser((event) => events.push(event), options)
  for (const piece of pieces) parser.push(piece)
  parser.end()
  return events
}

const whole = (text: string): Buffer[] => [Buffer.from(text)]

t.test('events with and without names, data joined across lines', async (t) => {
  const events = parse(whole('event: message_start\ndata: {"a":1}\n\ndata: one\ndata: two\n\n'))
  t.same(events, [{ event: 'message_start', data: '{"a":1}' }, { event: undefined, data: 'one\ntwo' }])
})

t.test('LF, CRLF and CR line ends, mixed', async (t) => {
  const expected = [{ event: 'x', data: 'a' }, { event: undefined, data: 'b' }, { event: undefined, data: 'c' }]
  t.same(parse(whole('event: x\r\ndata: a\r\n\r\ndata: b\r\rdata: c\n\n')), expected)
  t.same(parse(bytewise(Buffer.from('event: x\r\ndata: a\r\n\r\ndata: b\r\rdata: c\n\n'))), expected)
})

t.test('a CRLF split between two chunks is one line end', async (t) => {
  t.same(parse([Buffer.from('data: a\r'), Buffer.from('\n\r'), Buffer.from('\n')]), [{ event: undefined, data: 'a' }])
})

t.test('comments, id and retry are ignored; one space after the colon is dropped, the rest kept', async (t) => {
  t.same(parse(whole(': keep-alive\nid: 7\nretry: 1000\ndata:  two spaces\ndata:none\n\n')), [{ event: undefined, data: ' two spaces\nnone' }])
})

t.test('a field without a colon, an empty data line, and an event with no data', async (t) => {
  t.same(parse(whole('data\n\nevent: ping\n\ndata:\n\n')), [{ event: undefined, data: '' }, { event: undefined, data: '' }])
})

t.test('a multibyte character split inside its bytes', async (t) => {
  const bytes = Buffer.from('data: 日本語 🍓\n\n')
  t.same(parse(bytewise(bytes)), [{ event: undefined, data: '日本語 🍓' }])
})

t.test('the data: prefix split anywhere', async (t) => {
  t.same(parse([Buffer.from('da'), Buffer.from('ta'), Buffer.from(':'), Buffer.from(' x\n'), Buffer.from('\n')]), [{ event: undefined, data: 'x' }])
})

t.test('a byte order mark at the start is not part of the first field', async (t) => {
  t.same(parse(bytewise(Buffer.from('\uFEFFevent: a\ndata: 1\n\n'))), [{ event: 'a', data: '1' }])
})

t.test('an event without its closing blank line is dropped at the end', async (t) => {
  t.same(parse(whole('data: complete\n\ndata: cut')), [{ event: undefined, data: 'complete' }])
  t.same(parse(whole('data: cut\n')), [])
})

t.test('events are delivered as their blank line arrives, not later', async (t) => {
  const events: SseEvent[] = []
  const parser = new SseParser((event) => events.push(event))
  parser.push(Buffer.from('data: 1\n\ndata: 2'))
  t.equal(events.length, 1)
  parser.push(Buffer.from('\n\n'))
  t.equal(events.length, 2)
})

t.test('an event larger than the cap throws, across lines and across chunks', async (t) => {
  t.throws(() => parse(whole(`data: ${'x'.repeat(100)}\n\n`), { maxEventBytes: 64 }), { code: 'BERRY_ERR_UPSTREAM_EVENT_TOO_LARGE', statusCode: 502 })
  t.throws(() => parse(bytewise(Buffer.from(`data: ${'x'.repeat(100)}`)), { maxEventBytes: 64 }), { code: 'BERRY_ERR_UPSTREAM_EVENT_TOO_LARGE' })
  t.throws(() => parse(whole(`${'data: 0123456789\n'.repeat(10)}\n`), { maxEventBytes: 64 }), { code: 'BERRY_ERR_UPSTREAM_EVENT_TOO_LARGE' })
  // The cap is per event: many small events pass.
  t.equal(parse(whole('data: 0123456789\n\n'.repeat(100)), { maxEventBytes: 64 }).length, 100)
})

t.test('the default cap is 1 MiB', async (t) => {
  t.equal(parse(whole(`data: ${'y'.repeat(1024 * 1024 - 100)}\n\n`)).length, 1)
  t.throws(() => parse(whole(`data: ${'y'.repeat(1024 * 1024)}\n\n`)), { code: 'BERRY_ERR_UPSTREAM_EVENT_TOO_LARGE' })
})

t.test('property: any cut of any stream gives the events of the whole', async (t) => {
  const field = fc.constantFrom('data', 'event', 'id', ': comment', 'data')
  const value = fc.string({ unit: fc.constantFrom('a', 'é', '日', '🍓', ' ', ':', '{', '"'), maxLength: 12 })
  const eol = fc.constantFrom('\n', '\r\n', '\r')
  const line = fc.tuple(field, value, eol).map(([f, v, e]) => f.startsWith(':') ? `${f}${v}${e}` : `${f}: ${v}${e}`)
  const event = fc.tuple(fc.array(line, { minLength: 1, maxLength: 4 }), eol).map(([lines, e]) => lines.join('') + e)
  fc.assert(fc.property(fc.array(event, { maxLength: 8 }), fc.integer({ min: 1, max: 1000 }), (events, seed) => {
    const bytes = Buffer.from(events.join(''))
    const expected = parse([bytes])
    deepStrictEqual(parse(randomPieces(bytes, seed)), expected)
    deepStrictEqual(parse(bytewise(bytes)), expected)
  }), { numRuns: 200 })
  t.pass('200 streams, each cut at random and byte by byte')
})
