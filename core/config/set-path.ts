/** Immutable assignment at a dotted path (array indexes as numbers); undefined removes the field. */
export function setPath(root: unknown, path: string, value: unknown): unknown {
  const [head, ...rest] = path.split('.')
  if (head === undefined) return value
  if (Array.isArray(root)) {
    const copy = [...root]
    const i = Number(head)
    copy[i] = rest.length ? setPath(copy[i], rest.join('.'), value) : value
    return copy
  }
  const obj = { ...((root ?? {}) as Record<string, unknown>) }
  if (!rest.length) {
    if (value === undefined) delete obj[head]
    else obj[head] = value
  } else obj[head] = setPath(obj[head], rest.join('.'), value)
  return obj
}
