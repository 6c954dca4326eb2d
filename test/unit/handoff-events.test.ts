/**
 * combineEvents: every subscriber hears the events it listens to, in
 * order; an event with one listener goes straight to it; one nobody listens
 * to is left out; body watchers of two subscribers both see the body.
 */
import t from 'tap'
import { combineEvents, type BodyWatcher, type HandoffEvents, type ProxiedRequest } from '../../plugin/proxy/handoff-events.js'
import type { RouteState } from '../../plugin/proxy/route-state.js'
import type { Backend } from '../../plugin/config/types.js'

// The events only pass these along; plain objects stand in for them.
const request = {} as ProxiedRequest
const route = {} as RouteState
const backend = {} as Backend

function recorder (name: string, heard: string[], watch = false): HandoffEvents {
  return {
    requestStarted: () => { heard.push(`${name}: started`) },
    attemptStarted: () => { heard.push(`${name}: attempt`) },
    answerStarted: (): BodyWatcher | undefined => {
      heard.push(`${name}: answer`)
      return watch ? { onChunk: (chunk) => { heard.push(`${name}: chunk ${chunk.toString()}`) }, onEnd: (end) => { heard.push(`${name}: end ${end.error}`) } } : undefined
    },
    failover: () => { heard.push(`${name}: failover`) },
    clientGone: () => { heard.push(`${name}: gone`) },
    requestEnded: () => { heard.push(`${name}: ended`) }
  }
}

t.test('two subscribers hear every event, in order, and both watch the body', async (t) => {
  const heard: string[] = []
  const events = combineEvents([recorder('a', heard, true), recorder('b', heard, true)])
  events.requestStarted?.(request)
  events.attemptStarted?.(request, route)
  const watcher = events.answerStarted?.(request, route, { status: 200, sse: true, ttfbMs: 1 })
  watcher?.onChunk(Buffer.from('x'))
  watcher?.onEnd({ error: 'cut' })
  events.failover?.(request, route, backend, backend)
  events.clientGone?.(request)
  events.requestEnded?.(request)
  t.same(heard, [
    'a: started', 'b: started', 'a: attempt', 'b: attempt', 'a: answer', 'b: answer',
    'a: chunk x', 'b: chunk x', 'a: end cut', 'b: end cut',
    'a: failover', 'b: failover', 'a: gone', 'b: gone', 'a: ended', 'b: ended'
  ])
})

t.test('an event with one listener is that listener; one with none is absent', async (t) => {
  const heard: string[] = []
  const only: HandoffEvents = { requestEnded: () => { heard.push('ended') } }
  const both = recorder('b', heard)
  const events = combineEvents([only, { requestStarted: both.requestStarted }])
  t.equal(events.requestEnded, only.requestEnded, 'no fan-out in between')
  t.equal(events.requestStarted, both.requestStarted)
  t.equal(events.answerStarted, undefined)
  t.equal(events.failover, undefined)
  t.same(combineEvents([]), {}, 'no subscriber: nothing to tell')
})

t.test('a watcher of only one of two subscribers is that watcher', async (t) => {
  const heard: string[] = []
  const events = combineEvents([recorder('a', heard, true), recorder('b', heard, false)])
  const watcher = events.answerStarted?.(request, route, { status: 200, sse: false, ttfbMs: 1 })
  watcher?.onChunk(Buffer.from('y'))
  t.same(heard, ['a: answer', 'b: answer', 'a: chunk y'])
})
