/** Writing server-sent events: OpenAI's unnamed `data:` events and Anthropic's named ones. */

export const DONE = 'data: [DONE]\n\n'

export function dataEvent (value: object): string {
  return `data: ${JSON.stringify(value)}\n\n`
}

export function namedEvent (name: string, value: object): string {
  return `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`
}
