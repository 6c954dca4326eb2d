/**
 * The status page's scripts, ready to serve.
 *
 * `npm run build` compiles the browser code (page/*.ts, tsconfig.page.json,
 * the DOM lib) into dist/plugin/status/page/*.js, beside this module's own
 * compiled file: a published package serves those as they are. Run from
 * source (the tests import plugin/index.ts through tsx), this module sits
 * beside page/*.ts instead: each is transpiled once with TypeScript's
 * `transpileModule` (type-checking is `npm run typecheck`'s job), so no
 * generated file is ever committed and a test always serves the code it
 * reads.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

export interface PageFile {
  /** `main.js`: what the page's URLs name. */
  readonly name: string
  readonly body: string
  readonly etag: string
}

const PAGE_DIR = new URL('./page/', import.meta.url)

let loading: Promise<ReadonlyMap<string, PageFile>> | undefined

/** Every page script by file name; read (or transpiled) once per process. */
export function loadPageScripts (): Promise<ReadonlyMap<string, PageFile>> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined
    throw err
  })
  return loading
}

/** A file of the page with its ETag. */
export function pageFile (name: string, body: string): PageFile {
  return { name, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }
}

async function load (): Promise<ReadonlyMap<string, PageFile>> {
  const files = await readdir(PAGE_DIR)
  const compiled = files.filter((f) => f.endsWith('.js'))
  const scripts = new Map<string, PageFile>()
  if (compiled.length > 0) {
    for (const name of compiled) scripts.set(name, pageFile(name, await readFile(new URL(name, PAGE_DIR), 'utf8')))
    return scripts
  }
  const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  if (sources.length === 0) throw new Error(`the status page's scripts are missing from ${fileURLToPath(PAGE_DIR)}`)
  let ts: typeof import('typescript')
  try {
    ts = (await import('typescript')).default
  } catch (cause) {
    throw new Error("the status page's scripts are not compiled (run 'npm run build') and TypeScript is not installed to compile them", { cause })
  }
  for (const file of sources) {
    const source = await readFile(new URL(file, PAGE_DIR), 'utf8')
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: true, sourceMap: false }
    })
    const name = file.replace(/\.ts$/, '.js')
    scripts.set(name, pageFile(name, outputText))
  }
  return scripts
}
