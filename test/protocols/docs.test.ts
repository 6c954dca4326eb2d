/**
 * docs/protocols.md keeps up with the code: every parameter of each
 * protocol's table has its row in the matching section, and the library
 * imports the official SDKs for their types only.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { PARAMETERS as CLAUDE } from '../../plugin/protocols/claude/request.js'
import { PARAMETERS as GEMINI } from '../../plugin/protocols/gemini/request.js'
import { CLIENT_PARAMETERS } from '../../plugin/protocols/claude/client-request.js'

const root = new URL('../../', import.meta.url)

/** The text of the section under a `###` heading, to the next heading. */
function section (markdown: string, heading: string): string {
  const start = markdown.indexOf(`### ${heading}\n`)
  if (start === -1) return ''
  const next = markdown.indexOf('\n#', start + heading.length + 5)
  return markdown.slice(start, next === -1 ? undefined : next)
}

t.test('every parameter of each table has a row in its section of docs/protocols.md', async (t) => {
  const markdown = await readFile(new URL('docs/protocols.md', root), 'utf8')
  const tables: Array<[string, object]> = [['Anthropic: parameters', CLAUDE], ['Gemini: parameters', GEMINI], ['Reverse: parameters', CLIENT_PARAMETERS]]
  for (const [heading, table] of tables) {
    const text = section(markdown, heading)
    t.not(text, '', `the section '${heading}' exists`)
    for (const key of Object.keys(table)) t.ok(text.includes(`| \`${key}\` |`), `'${heading}' has a row for ${key}`)
  }
})

async function sources (dir: URL): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => join(entry.parentPath, entry.name))
}

t.test('the official SDKs are imported for their types only: nothing of theirs runs in berry', async (t) => {
  const files = await sources(new URL('plugin/', root))
  let imports = 0
  for (const file of files) {
    const text = await readFile(file, 'utf8')
    for (const match of text.matchAll(/^import (type )?[^;]*?from '(@anthropic-ai\/[^']+|@google\/genai[^']*|openai[^']*)'/gms)) {
      imports++
      t.equal(match[1], 'type ', `${file} imports ${match[2]} with import type`)
    }
  }
  t.ok(imports > 10, `the library does use the SDKs' types (${imports} imports)`)
})
