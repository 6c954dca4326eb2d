/** `data:` URLs as clients send images and files: `data:image/png;base64,iVBOR...`. */

export interface DataUrl {
  /** Lower-cased, without parameters (`image/png`). */
  readonly mediaType: string
  /** The payload, base64. */
  readonly data: string
}

/** The parts of a base64 `data:` URL, or undefined for anything else. */
export function parseDataUrl (url: string): DataUrl | undefined {
  if (!url.startsWith('data:')) return undefined
  const comma = url.indexOf(',')
  if (comma === -1) return undefined
  const header = url.slice(5, comma)
  const parameters = header.split(';')
  if (parameters.at(-1)?.toLowerCase() !== 'base64') return undefined
  const mediaType = (parameters[0] ?? '').trim().toLowerCase()
  if (mediaType === '') return undefined
  return { mediaType, data: url.slice(comma + 1) }
}

export function isHttpUrl (url: string): boolean {
  return url.startsWith('https://') || url.startsWith('http://')
}

export function toDataUrl (mediaType: string, data: string): string {
  return `data:${mediaType};base64,${data}`
}
