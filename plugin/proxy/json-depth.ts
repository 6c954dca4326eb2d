/**
 * How deeply a parsed JSON body nests. V8 parses any depth, but berry
 * serialises the body again for each attempt with JSON.stringify, which is
 * recursive: a few hundred kilobytes of `[[[[...]]]]` overflow its stack and
 * would turn a bad request into a 500. Real request bodies (tool schemas
 * included) nest a few dozen levels at most.
 */

export const MAX_JSON_DEPTH = 256

/** Whether `value` nests objects or arrays more than `max` levels deep. Iterative: deep input cannot overflow it. */
export function nestsDeeperThan (value: unknown, max: number): boolean {
  const stack: Array<{ node: unknown, depth: number }> = [{ node: value, depth: 1 }]
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { node, depth } = top
    if (node === null || typeof node !== 'object') continue
    if (depth > max) return true
    const children = Array.isArray(node) ? node : Object.values(node)
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push({ node: child, depth: depth + 1 })
    }
  }
  return false
}
