/**
 * The caller as berry sees it, whether it came from `[users]` or from the
 * host's `authenticate` hook.
 */
export interface BerryUser {
  readonly id: string
  /** Public model names (or keys) this user may use; empty or absent: all. */
  readonly allowedModels?: readonly string[]
  /** `admin` opens /admin/backends and /metrics. */
  readonly tags?: readonly string[]
}

export function hasTag (user: BerryUser, tag: string): boolean {
  return user.tags?.includes(tag) ?? false
}
