/**
 * The example app as a newcomer runs it: the built server, the embedded demo
 * answering at once, and SIGHUP reloads of a config file.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { renameSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { watchOutput } from './helpers/child-process.js'
import { json, startUpstream } from './helpers/fake-upstream.js'

const root = resolve(import.meta.dirname, '..')
const server = join(root, 'dist', 'example-app', 'server.js')

interface App {
  readonly child: ChildProcess
  readonly base: string
  readonly output: () => string
  /** Resolves with the output once it matches `pattern` (at most `ms` later). */
  readonly printed: (pattern: RegExp, ms?: number) => Promise<string>
}

/** Starts the built example app on a free port and waits for it to listen. */
async function start (t: Test, env: Record<string, string>): Promise<App> {
  const child = spawn(process.execPath, [server], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  const { output, printed } = watchOutput(child, 'the example app')
  // Generous: a loaded 2-core CI machine can take seconds to start Node.
  const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(await printed(/Server listening at http:\/\/127\.0\.0\.1:\d+/))
  return { child, base: match![1]!, output, printed }
}

t.test('the embedded demo answers a curl at once, JSON and SSE', async (t) => {
  const { base, output } = await start(t, {})
  const headers = { authorization: 'Bearer berry-demo-token', 'content-type': 'application/json' }
  const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'demo-model', messages: [{ role: 'user', content: 'Hello' }] }) })
  t.equal(res.status, 200)
  t.match((await res.json()).choices[0].message.content, /^Hello from (alpha|beta)! You said: Hello$/)
  const stream = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'demo-model', stream: true, backend: 'demo_beta', messages: [{ role: 'user', content: 'Hi' }] }) })
  t.match(await stream.text(), /data: \[DONE\]\n\n$/)
  t.match(output(), /demo token: {2}berry-demo-token/)
  t.match(output(), /curl http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions -H 'Authorization: Bearer berry-demo-token'/)
  // The status page's scripts as `npm run build` compiled them into dist.
  t.match(output(), /status page: http:\/\/127\.0\.0\.1:\d+\/status/)
  t.match(await (await fetch(`${base}/status`)).text(), /<script type="module" src="\/status\/assets\/main\.js">/)
  const main = await fetch(`${base}/status/assets/main.js`)
  t.equal(main.status, 200)
  t.match(await main.text(), /from '\.\/render\.js'/)
})

/** A config file serving one model, `first`; `text(name)` makes the same with another model. */
async function configFile (t: Test): Promise<{ dir: string, file: string, text: (model: string) => string }> {
  const u = await startUpstream(json())
  t.teardown(() => u.close())
  const dir = t.testdir()
  const file = join(dir, 'berry.toml')
  const text = (model: string): string => `[providers.p]\nbase_url = "${u.origin}/v1"\n[[models.${model}.backends]]\nprovider = "p"\nmodel = "x"\n[users.u]\ntoken = "file-token"\n`
  writeFileSync(file, text('first'))
  return { dir, file, text }
}

t.test('BERRY_CONFIG serves a file and SIGHUP reloads it', async (t) => {
  const { file, text } = await configFile(t)
  const { child, base, output, printed } = await start(t, { BERRY_CONFIG: file })
  const models = async () => (await (await fetch(`${base}/v1/models`, { headers: { authorization: 'Bearer file-token' } })).json()).data.map((m: { id: string }) => m.id)
  t.same(await models(), ['first'])
  writeFileSync(file, text('second'))
  child.kill('SIGHUP')
  await printed(/config reloaded/)
  t.same(await models(), ['second'])
  t.match(output(), /config reloaded \(SIGHUP\): models \+1 -1/)
  writeFileSync(file, 'not toml [')
  child.kill('SIGHUP')
  await printed(/rejected/)
  t.match(output(), /config reload \(SIGHUP\) rejected, the old config stays in force: Invalid berry config/)
  t.same(await models(), ['second'])
})

t.test('BERRY_WATCH=1 reloads when the file is replaced', async (t) => {
  const { dir, file, text } = await configFile(t)
  const { printed } = await start(t, { BERRY_CONFIG: file, BERRY_WATCH: '1' })
  // Save the way editors do: a new file renamed over the old one.
  writeFileSync(join(dir, 'berry.toml.tmp'), text('second'))
  renameSync(join(dir, 'berry.toml.tmp'), file)
  t.match(await printed(/config reloaded/), /config reloaded \(file changed\): models \+1 -1/)
})
