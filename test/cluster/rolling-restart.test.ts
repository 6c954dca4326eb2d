/**
 * Three example-app processes behind nginx, under steady JSON and SSE
 * load, restarted one at a time (SIGTERM, exit, start again): not one
 * request is lost. Real parts only: the built example app, Debian's nginx
 * with the nginx.conf of docs/deployment.md, fake upstreams in this
 * process.
 *
 * What makes it lossless: a draining instance finishes what it started
 * (streams included), and answers anything new with 503 + Connection:
 * close, which nginx passes to the next instance (`proxy_next_upstream
 * http_503 non_idempotent`); once it has exited, nginx gets connection
 * errors and does the same (`error`).
 */
import t from 'tap'
import { gatewayConfig } from '../helpers/config.js'
import { startUpstream } from '../helpers/fake-upstream.js'
import { nginxBinary, startCluster, type Instance } from '../helpers/nginx-cluster.js'
import { answer, headers, jsonRequest, newTally, sseRequest, steadyLoad } from '../helpers/steady-load.js'

const nginx = nginxBinary()
const skip = nginx === undefined ? 'nginx is not installed (apt-get install nginx; .ci/run does): the cluster test cannot run' : false

/** Opens a stream on one instance, past nginx, and reads its first chunk: it is in flight. */
async function streamInFlight (instance: Instance): Promise<Promise<string>> {
  const res = await fetch(`${instance.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'direct' }] }) })
  if (res.body === null) throw new Error(`no body: ${res.status}`)
  const reader = res.body.getReader()
  const decoder = new TextDecoder()
  let text = `${res.status} `
  const first = await reader.read()
  text += decoder.decode(first.value, { stream: true })
  return (async () => {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return text
      text += decoder.decode(value, { stream: true })
    }
  })()
}

t.test('a rolling restart under JSON and SSE load loses no request', { skip }, async (t) => {
  const upstream = await startUpstream(answer)
  t.teardown(() => upstream.close())
  const cluster = await startCluster(t, { config: gatewayConfig({ providers: { a: upstream.origin } }), instances: 3, failTimeout: '1s' })
  const tally = newTally()
  const load = [
    steadyLoad(6, (n) => jsonRequest(cluster.url, tally, n)),
    steadyLoad(8, (n) => sseRequest(cluster.url, tally, n))
  ]

  const drained: Array<{ instance: number, inFlight: number, finished: boolean }> = []
  for (let i = 0; i < cluster.instances.length; i++) {
    const before = cluster.instances[i] as Instance
    const direct = await streamInFlight(before)
    const restartedAt = Date.now()
    const { old, exit, fresh } = await cluster.restart(i)
    t.same(exit, { code: 0, signal: null }, `instance ${i} exited 0 on SIGTERM`)
    const closing = /closing, waiting up to 30s for (\d+) proxied requests in flight/.exec(old.output())
    drained.push({ instance: i, inFlight: Number(closing?.[1] ?? 0), finished: /every request in flight finished/.test(old.output()) })
    t.match(await direct, /^200 .*data: \[DONE\]\n\n$/s, `the stream in flight on instance ${i} finished`)
    t.not(fresh.child.pid, old.child.pid)
    // The next restart waits until nginx sends this instance traffic again.
    while (!cluster.servedBy(i, restartedAt)) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  // Some load on the whole new set before counting.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await Promise.all(load.map((l) => l.stop()))

  t.same(tally.failures, [], 'no request failed')
  t.ok(tally.json > 50, `JSON requests served: ${tally.json}`)
  t.ok(tally.sse > 20, `streams served: ${tally.sse}`)
  for (const d of drained) {
    t.ok(d.inFlight >= 1, `instance ${d.instance} had ${d.inFlight} requests in flight at SIGTERM`)
    t.ok(d.finished, `instance ${d.instance} let them all finish`)
  }
  const log = cluster.nginx.accessLog()
  const retried = log.filter((line) => /upstream_status=\S+, /.test(line))
  // A keep-alive connection closed by an instance as nginx reuses it shows
  // as "prematurely closed ... while reading response header": nginx passes
  // that request on too. Closed while reading the body would be a loss.
  const races = cluster.nginx.errors().match(/prematurely closed connection while reading response header/g)?.length ?? 0
  t.comment(`${tally.json} JSON requests and ${tally.sse} streams through nginx; ${retried.length} passed on to another instance (${races} of them on a keep-alive connection closed as nginx reused it)`)
  t.notMatch(cluster.nginx.errors(), /while reading upstream|no live upstreams/, 'nginx never lost an answer half-way nor ran out of instances')
})
