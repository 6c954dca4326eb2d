/**
 * The package as a consumer gets it: `npm pack`, unpacked into a separate
 * app's node_modules, registered from plain ESM and type-checked from
 * TypeScript through the `exports` map.
 */
import t from 'tap'
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { json, startUpstream } from './helpers/fake-upstream.js'

const root = resolve(import.meta.dirname, '..')
// Async: the fake upstream lives in this process and must keep answering.
const run = promisify(execFile)

t.test('npm pack, install beside fastify, register, type-check', async (t) => {
  const dir = t.testdir()
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!
  const modules = join(dir, 'app', 'node_modules')
  mkdirSync(join(modules, 'fastify-berry'), { recursive: true })
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', join(modules, 'fastify-berry'), '--strip-components=1'])
  const files = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
  t.match(files, 'package/dist/plugin/index.js')
  t.match(files, 'package/dist/plugin/index.d.ts')
  t.notMatch(files, 'package/test/', 'tests are not shipped')
  // The consumer's other dependencies: the ones this repo already installed.
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name !== '.bin' && name !== 'fastify-berry') symlinkSync(join(root, 'node_modules', name), join(modules, name))
  }
  const u = await startUpstream(json('consumer ok'))
  t.teardown(() => u.close())
  writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(dir, 'app', 'app.mjs'), `
import Fastify from 'fastify'
import berry, { berry as named } from 'fastify-berry'
if (berry !== named) throw new Error('named export differs')
const app = Fastify()
await app.register(berry, { config: ${JSON.stringify(`[providers.p]\nbase_url = "${u.origin}/v1"\n[[models.m.backends]]\nprovider = "p"\nmodel = "m"\n[users.u]\ntoken = "consumer-token"\n`)} })
const res = await app.inject({ method: 'POST', url: '/v1/models', headers: { authorization: 'Bearer consumer-token' } })
await app.listen({ port: 0, host: '127.0.0.1' })
const r = await fetch('http://127.0.0.1:' + app.server.address().port + '/v1/chat/completions', {
  method: 'POST', headers: { authorization: 'Bearer consumer-token', 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'm', messages: [] })
})
console.log(r.status, (await r.json()).choices[0].message.content, res.statusCode)
await app.close()
`)
  const { stdout } = await run(process.execPath, ['app.mjs'], { cwd: join(dir, 'app'), encoding: 'utf8' })
  t.equal(stdout.trim(), '200 consumer ok 404')

  writeFileSync(join(dir, 'app', 'types.ts'), `
import Fastify from 'fastify'
import berry, { type BerryOptions, type BerryUser, type BerryConfig } from 'fastify-berry'
const app = Fastify()
const user: BerryUser = { id: 'x', tags: ['admin'] }
const options: BerryOptions = { config: 'berry.toml', prefix: '/llm', authenticate: async () => user }
app.register(berry, options)
app.after(() => {
  const config: BerryConfig = app.berry.config
  const n: number = config.models.size
  void n
  // @ts-expect-error reload takes a config source, not a number
  app.berry.reload(5)
})
`)
  writeFileSync(join(dir, 'app', 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['types.ts'] }))
  try {
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: join(dir, 'app'), encoding: 'utf8' })
    t.pass('the consumer type-checks')
  } catch (err) {
    t.fail(String((err as { stdout?: string }).stdout))
  }
})
