/** The command line: defaults, environment, `--backends a b`, and every usage error. */
import t from 'tap'
import { parse, UsageError, type Options } from '../../cli/args.js'

const options = (argv: string[], env: Record<string, string> = {}): Options => {
  const parsed = parse(argv, env)
  if (parsed.help) throw new Error('help')
  return parsed.options
}

t.test('defaults', async (t) => {
  t.match(options(['check']), {
    command: 'check',
    url: 'http://localhost:3000',
    token: undefined,
    models: [],
    backends: [],
    timeoutMs: 30_000,
    json: false,
    maxTokens: 1,
    prompt: 'ping',
    streaming: false,
    serial: false,
    intervalMs: 60_000,
    webhook: undefined,
    count: undefined,
    rounds: 3
  })
})

t.test('environment, and options over environment', async (t) => {
  const env = { BERRY_URL: 'https://gw.example/berry/', BERRY_TOKEN: 'tok-env' }
  t.match(options(['check'], env), { url: 'https://gw.example/berry', token: 'tok-env' })
  t.match(options(['check', '--url', 'http://127.0.0.1:8080', '--token', 'tok-arg'], env), { url: 'http://127.0.0.1:8080', token: 'tok-arg' })
  t.match(options(['check'], { BERRY_URL: '', BERRY_TOKEN: '' }), { url: 'http://localhost:3000', token: undefined }, 'empty counts as unset')
})

t.test('--backends takes every word up to the next option, or a list', async (t) => {
  t.same(options(['check', '--backends', 'a', 'b', '--streaming']).backends, ['a', 'b'])
  t.same(options(['check', '--backends', 'a,b', '--backends', 'c']).backends, ['a', 'b', 'c'])
  t.same(options(['--backends', 'a', 'b', 'check']).backends, ['a', 'b'], 'the command is given back')
  t.equal(options(['--backends', 'a', 'b', 'check']).command, 'check')
  t.same(options(['check', '--model', 'gpt-4o', '--model', 'claude']).models, ['gpt-4o', 'claude'])
})

t.test('command options', async (t) => {
  t.match(options(['monitor', '--interval', '0.5', '--webhook', 'https://hooks.example/x', '--count', '2', '--serial']),
    { command: 'monitor', intervalMs: 500, webhook: 'https://hooks.example/x', count: 2, serial: true })
  t.match(options(['benchmark', '--rounds', '5', '--streaming', '--timeout', '2.5', '--max-tokens', '16', '--prompt', 'What is 2+2?']),
    { command: 'benchmark', rounds: 5, streaming: true, timeoutMs: 2500, maxTokens: 16, prompt: 'What is 2+2?' })
  t.same(parse(['--help'], {}), { help: true })
  t.same(parse(['check', '-h'], {}), { help: true })
})

const MISTAKES: Array<[string[], RegExp]> = [
  [[], /a command is needed/],
  [['status'], /unknown command 'status'/],
  [['check', 'extra'], /unexpected argument 'extra'/],
  [['check', '--bogus'], /Unknown option '--bogus'/],
  [['check', '--backends'], /--backends needs at least one backend id/],
  [['check', '--timeout', '0'], /--timeout must be a number of seconds above 0/],
  [['check', '--timeout', ''], /--timeout must be a number of seconds above 0/],
  [['monitor', '--interval=-1'], /--interval must be a number of seconds above 0/],
  [['benchmark', '--rounds', '1.5'], /--rounds must be a whole number of at least 1/],
  [['benchmark', '--rounds', '0'], /--rounds must be a whole number of at least 1/],
  [['check', '--rounds', '3'], /--rounds does not apply to 'check' \(only to benchmark\)/],
  [['benchmark', '--serial'], /--serial does not apply to 'benchmark'/],
  [['check', '--webhook', 'http://x'], /--webhook does not apply to 'check'/],
  [['check', '--url', 'ftp://x'], /--url must be an http:\/\/ or https:\/\/ URL/],
  [['check', '--url', 'not a url'], /--url is not a URL/],
  [['check', '--url', 'http://u:p@x'], /--url must not carry credentials/],
  [['monitor', '--webhook', 'nope'], /--webhook is not a URL/],
  [['check', '--prompt', ''], /--prompt must not be empty/],
  [['check', '--max-tokens', 'x'], /--max-tokens must be a whole number/]
]

for (const [argv, message] of MISTAKES) {
  t.test(`usage error: ${argv.join(' ') || '(nothing)'}`, async (t) => {
    t.throws(() => parse(argv, {}), { name: 'UsageError', message })
    try { parse(argv, {}) } catch (err) { t.ok(err instanceof UsageError) }
  })
}
