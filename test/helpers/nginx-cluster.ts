/**
 * Several example-app processes behind Debian's nginx, for tests of what
 * only real processes show: SIGTERM drains, rolling restarts, state shared
 * between instances.
 *
 *   const cluster = await startCluster(t, { config: gatewayConfig({ ... }) })
 *   await cluster.post('/v1/chat/completions', body)   // through nginx
 *   await cluster.restart(0)                          // SIGTERM, wait for exit 0, start again
 *
 * Each instance is the built `dist/example-app/server.js` (run `npm run
 * build` first; `npm test` does) with `BERRY_CONFIG` pointing at the config
 * file written here, on a port of its own that it keeps across restarts.
 * The config is the test's TOML text: a `redis_url` in its `[settings]`
 * makes the instances share Redis. `config` may also be a function of the
 * instance's index, for instances that differ.
 *
 * nginx runs as a child process with its own nginx.conf in a temporary
 * folder (`nginx -c ... -g 'daemon off;'`), with the settings SSE needs and
 * passive health checks; `nginxConf` below is the same text
 * docs/deployment.md shows. When nginx is not installed, `nginxBinary()`
 * says so and the tests skip with that reason.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Socket } from 'node:net'
import { join, resolve } from 'node:path'
import { freePort, watchOutput } from './child-process.js'

interface Teardown { teardown (fn: () => unknown): void }

const root = resolve(import.meta.dirname, '..', '..')
export const EXAMPLE_APP = join(root, 'dist', 'example-app', 'server.js')

/** The nginx binary, or undefined when nginx is not installed. */
export function nginxBinary (): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    const probe = spawnSync(candidate, ['-v'], { stdio: 'ignore' })
    if (probe.error === undefined && probe.status === 0) return candidate
  }
  return undefined
}

export interface Exit { readonly code: number | null, readonly signal: NodeJS.Signals | null }

export interface Instance {
  readonly index: number
  readonly port: number
  /** `http://127.0.0.1:PORT`: the instance itself, not through nginx. */
  readonly url: string
  readonly child: ChildProcess
  /** Everything it wrote (JSON log lines). */
  output (): string
  /** Resolves with the output once it matches `pattern`, at most `ms` later. */
  printed (pattern: RegExp, ms?: number): Promise<string>
  readonly exited: Promise<Exit>
}

export interface InstanceOptions {
  readonly configFile: string
  readonly index?: number
  /** Default: a free port. */
  readonly port?: number
  readonly env?: Readonly<Record<string, string>>
}

/** Starts the built example app and waits until it listens. */
export async function startInstance (t: Teardown, options: InstanceOptions): Promise<Instance> {
  const port = options.port ?? await freePort()
  const child = spawn(process.execPath, [EXAMPLE_APP], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', BERRY_CONFIG: options.configFile, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    return exited
  })
  const { output, printed } = watchOutput(child, `instance ${options.index ?? 0}`)
  await Promise.race([
    printed(/Server listening at http:\/\/127\.0\.0\.1:\d+/),
    exited.then(({ code }) => { throw new Error(`instance ${options.index ?? 0} exited with ${code} before listening:\n${output()}`) })
  ])
  return { index: options.index ?? 0, port, url: `http://127.0.0.1:${port}`, child, output, printed, exited }
}

export interface NginxOptions {
  readonly dir: string
  readonly port: number
  readonly upstreamPorts: readonly number[]
  /** Passive health: failures that take an instance out for `failTimeout`. */
  readonly maxFails?: number
  readonly failTimeout?: string
}

/**
 * An nginx.conf for berry instances: SSE passes through unbuffered over
 * keep-alive HTTP/1.1 upstream connections, and a request an instance
 * refuses (a connection error, or its 503 while it drains) goes to the next
 * instance, POSTs included (`non_idempotent`): berry only refuses a request
 * it has not started on.
 */
export function nginxConf (options: NginxOptions): string {
  const { dir, port, upstreamPorts, maxFails = 1, failTimeout = '2s' } = options
  const user = process.getuid?.() === 0 ? 'user root root;\n' : ''
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  log_format berry '$msec $status "$request" upstream=$upstream_addr upstream_status=$upstream_status time=$request_time';
  access_log ${dir}/access.log berry;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream berry {
${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=${maxFails} fail_timeout=${failTimeout};`).join('\n')}
    keepalive 32;
    # Below berry's own keep-alive timeout (the example app's: 30 s), so
    # nginx, not berry, closes an idle connection.
    keepalive_timeout 20s;
  }

  server {
    listen 127.0.0.1:${port};
    # berry's body_limit (10 MiB by default), not nginx's 1 MiB.
    client_max_body_size 10m;
    location / {
      proxy_pass http://berry;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_cache off;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 60s;
      proxy_next_upstream error timeout http_503 non_idempotent;
      proxy_next_upstream_tries 3;
    }
  }
}
`
}

export interface Nginx {
  readonly url: string
  readonly child: ChildProcess
  /** Access log lines so far (`$msec $status "$request" upstream=... upstream_status=... time=...`). */
  accessLog (): string[]
  /** What nginx wrote to stderr (warnings, errors). */
  errors (): string
}

export async function startNginx (t: Teardown, binary: string, options: Omit<NginxOptions, 'dir' | 'port'> & { dir: string }): Promise<Nginx> {
  const port = await freePort()
  const { dir } = options
  mkdirSync(dir, { recursive: true })
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, nginxConf({ ...options, port }))
  const child = spawn(binary, ['-p', dir, '-e', 'stderr', '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => { errors += chunk.toString('utf8') })
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT')
    return exited
  })
  // Ready when it accepts connections (nginx prints nothing on start).
  const deadline = Date.now() + 10_000
  while (!await accepts(port)) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${errors}`)
    if (Date.now() > deadline) throw new Error(`nginx did not listen within 10 s: ${errors}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const log = join(dir, 'access.log')
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    accessLog: () => existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((line) => line !== '') : [],
    errors: () => errors
  }
}

function accepts (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
    socket.connect(port, '127.0.0.1')
  })
}

export interface ClusterOptions {
  /** The config's TOML text, or one per instance index. */
  readonly config: string | ((index: number) => string)
  /** Default 3. */
  readonly instances?: number
  readonly env?: Readonly<Record<string, string>>
  readonly maxFails?: number
  readonly failTimeout?: string
}

export interface Cluster {
  /** nginx's address: what clients use. */
  readonly url: string
  readonly nginx: Nginx
  /** The instances now running (a restart replaces its entry). */
  readonly instances: Instance[]
  /** SIGTERM to instance `index`, its exit (code and output), then a new process on the same port. */
  restart (index: number, beforeStart?: (old: Instance, exit: Exit) => void | Promise<void>): Promise<{ old: Instance, exit: Exit, fresh: Instance }>
  /** Whether nginx has sent a request to instance `index` that it answered, since `since` (ms since epoch). */
  servedBy (index: number, since: number): boolean
}

export async function startCluster (t: Teardown & { testdir (): string }, options: ClusterOptions): Promise<Cluster> {
  const binary = nginxBinary()
  if (binary === undefined) throw new Error('nginx is not installed (apt-get install nginx)')
  const dir = t.testdir()
  const count = options.instances ?? 3
  const files: string[] = []
  for (let i = 0; i < count; i++) {
    const file = join(dir, `berry-${i}.toml`)
    writeFileSync(file, typeof options.config === 'string' ? options.config : options.config(i))
    files.push(file)
  }
  const instances = await Promise.all(files.map((configFile, index) => startInstance(t, { configFile, index, ...(options.env === undefined ? {} : { env: options.env }) })))
  const nginx = await startNginx(t, binary, {
    dir: join(dir, 'nginx'),
    upstreamPorts: instances.map((i) => i.port),
    ...(options.maxFails === undefined ? {} : { maxFails: options.maxFails }),
    ...(options.failTimeout === undefined ? {} : { failTimeout: options.failTimeout })
  })
  return {
    url: nginx.url,
    nginx,
    instances,
    async restart (index, beforeStart) {
      const old = instances[index]
      if (old === undefined) throw new Error(`no instance ${index}`)
      old.child.kill('SIGTERM')
      const exit = await old.exited
      await beforeStart?.(old, exit)
      const fresh = await startInstance(t, { configFile: files[index] ?? '', index, port: old.port, ...(options.env === undefined ? {} : { env: options.env }) })
      instances[index] = fresh
      return { old, exit, fresh }
    },
    servedBy (index, since) {
      const port = instances[index]?.port
      return nginx.accessLog().some((line) => {
        const [msec] = line.split(' ', 1)
        if (Number(msec) * 1000 < since) return false
        // The last upstream tried is the one that answered.
        const upstream = /upstream=(\S+(?:, \S+)*) upstream_status=(\S+(?:, \S+)*)/.exec(line)
        const last = upstream?.[1]?.split(', ').at(-1)
        const status = upstream?.[2]?.split(', ').at(-1)
        return last === `127.0.0.1:${port}` && status !== undefined && status.startsWith('2')
      })
    }
  }
}
