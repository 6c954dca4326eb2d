/**
 * The whole deployment of docs/deployment.md, end to end: three example-app
 * processes behind Debian's nginx, sharing one redis-server, under steady
 * JSON and SSE load through nginx. A backend that starts failing is
 * avoided by every instance within a second of its first failure; Redis
 * killed mid-load and brought back loses no request; and the usage totals,
 * read cluster-wide, count every request exactly once. The in-process
 * tests beside this one (health, outage, usage, quota) pin down each part;
 * this one shows they hold with real processes and a real balancer.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ADMIN_TOKEN } from '../helpers/berry.js'
import { within } from '../helpers/cluster.js'
import { gatewayConfig } from '../helpers/config.js'
import { startUpstream, status } from '../helpers/fake-upstream.js'
import { nginxBinary, startCluster, type Instance } from '../helpers/nginx-cluster.js'
import { redisServerAvailable, startRedis } from '../helpers/redis-server.js'
import { answer, jsonRequest, newTally, sseRequest, steadyLoad } from '../helpers/steady-load.js'

const skip = nginxBinary() === undefined
  ? 'nginx is not installed (apt-get install nginx; .ci/run does): the cluster test cannot run'
  : redisServerAvailable() ? false : 'redis-server is not installed (apt-get install redis-server; .ci/run does)'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The `bad` backend's circuit as instance `i` sees it. */
async function badHealth (instance: Instance): Promise<string> {
  const res = await fetch(`${instance.url}/admin/backends`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  const body = await res.json()
  return body.models[0].backends.find((b: { provider: string }) => b.provider === 'bad').health
}

/** alice's requests in the usage totals, read through nginx (any instance answers for all). */
async function usageRequests (url: string): Promise<number> {
  const res = await fetch(`${url}/admin/usage?user=alice`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
  if (res.status !== 200) return -1
  const body: { usage: Array<{ requests: number }> } = await res.json()
  return body.usage.reduce((sum, row) => sum + row.requests, 0)
}

t.test('three instances behind nginx on one Redis: a failing backend avoided by all within 1 s, a Redis crash survived, usage exact', { skip }, async (t) => {
  // Not under t.testdir(): startCluster makes that folder anew.
  const redisDir = mkdtempSync(join(tmpdir(), 'berry-redis-'))
  t.teardown(() => rmSync(redisDir, { recursive: true, force: true }))
  const redis = await startRedis(t, { dir: redisDir })
  const good = await startUpstream(answer)
  const bad = await startUpstream(answer)
  t.teardown(() => good.close())
  t.teardown(() => bad.close())
  const config = gatewayConfig({
    providers: { good: good.origin, bad: bad.origin },
    settings: { redis_url: redis.url, circuit_breaker_failure_threshold: 1, circuit_breaker_timeout_seconds: 60, max_retries: 2 }
  })
  const cluster = await startCluster(t, { config, instances: 3, failTimeout: '1s' })
  const tally = newTally()
  const load = [
    steadyLoad(4, (n) => jsonRequest(cluster.url, tally, n)),
    steadyLoad(4, (n) => sseRequest(cluster.url, tally, n))
  ]
  // Should an assertion throw, the loops must still end, or the test never does.
  t.teardown(() => Promise.all(load.map((l) => l.stop())))
  await sleep(1000)

  // The bad backend starts failing: whichever instance sends it a request
  // first opens its circuit, and Redis tells the other two.
  const before = bad.received.length
  bad.behave(status(500))
  await bad.requests(before + 1)
  const firstFailure = performance.now()
  await within(5000, (async () => {
    while (!(await Promise.all(cluster.instances.map(badHealth))).every((h) => h === 'open')) await sleep(10)
  })(), 'every instance seeing the circuit open')
  const elapsed = performance.now() - firstFailure
  t.ok(elapsed < 1000, `every instance had the circuit open ${elapsed.toFixed(0)} ms after the first failure`)
  // Requests already on their way to it when it broke fail too (and fail over): a comment, not a bound.
  t.comment(`${bad.received.length - before} failing requests reached the bad backend before every instance knew`)
  const afterOpen = bad.received.length
  await sleep(1000)
  t.equal(bad.received.length, afterOpen, 'no instance sent the bad backend anything once all knew')

  // Redis crashes under load and comes back on the same port and data.
  await redis.kill()
  await Promise.all(cluster.instances.map((i) => i.printed(/Redis is unavailable/, 10_000)))
  await sleep(1500)
  await startRedis(t, { dir: redisDir, port: redis.port })
  await Promise.all(cluster.instances.map((i) => i.printed(/Redis is available again/, 10_000)))
  await sleep(1000)
  await Promise.all(load.map((l) => l.stop()))

  t.same(tally.failures, [], 'no request through nginx failed')
  const served = tally.json + tally.sse
  t.ok(tally.json > 50 && tally.sse > 20, `${tally.json} JSON requests and ${tally.sse} streams served`)
  // Usage written during the outage waited in its instance and went to Redis on its return.
  let counted = -1
  await within(10_000, (async () => {
    while ((counted = await usageRequests(cluster.url)) !== served) await sleep(100)
  })(), `the usage totals reaching ${served} (last read: ${counted})`).catch((err: Error) => t.fail(err.message))
  t.equal(counted, served, 'every request counted exactly once, cluster-wide')
})
