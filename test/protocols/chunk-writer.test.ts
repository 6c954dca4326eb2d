/**
 * ChunkWriter serialises the fields every chunk shares once; what it writes
 * must stay, byte for byte, `dataEvent` of the chunk object (the openai
 * SDK's type), whatever the delta, the finish reason, or an id and model
 * learned mid-stream with characters JSON has to escape.
 */
import t from 'tap'
import { ChunkWriter, type ChunkDelta, type FinishReason } from '../../plugin/protocols/openai-response.js'
import { dataEvent } from '../../plugin/protocols/sse-format.js'

const deltas: Array<[ChunkDelta, FinishReason | null]> = [
  [{ role: 'assistant', content: '' }, null],
  [{ content: 'Hello, "world"\n\u2028 é 👋 \\ </script>' }, null],
  [{ reasoning_content: 'thinking…' }, null],
  [{ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, null],
  [{ tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] }, null],
  [{ content: undefined }, null],
  [{}, 'stop'],
  [{}, 'tool_calls'],
  [{}, 'length'],
  [{}, 'content_filter']
]

t.test('each chunk is dataEvent of its object, before and after id and model change', async (t) => {
  const writer = new ChunkWriter('msg_start', 'claude-x', 1_700_000_000)
  for (const [delta, finish] of deltas) {
    t.equal(writer.delta(delta, finish), dataEvent(writer.chunkOf(delta, finish)))
  }
  writer.id = 'msg_"quoted"\\id'
  writer.model = 'model\twith\u0001controls'
  for (const [delta, finish] of deltas) {
    const text = writer.delta(delta, finish)
    t.equal(text, dataEvent(writer.chunkOf(delta, finish)))
    t.same(JSON.parse(text.slice('data: '.length)), { id: 'msg_"quoted"\\id', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'model\twith\u0001controls', choices: [{ index: 0, delta: JSON.parse(JSON.stringify(delta)), finish_reason: finish, logprobs: null }] })
  }
})

t.test('the usage chunk carries the id and model learned last', async (t) => {
  const writer = new ChunkWriter('a', 'm', 1)
  writer.delta({ content: 'x' })
  writer.id = 'b'
  writer.model = 'n'
  const usage = JSON.parse(writer.usage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }).slice('data: '.length))
  t.equal(usage.id, 'b')
  t.equal(usage.model, 'n')
  t.match(writer.delta({ content: 'y' }), /^data: \{"id":"b","object":"chat\.completion\.chunk","created":1,"model":"n",/)
})
