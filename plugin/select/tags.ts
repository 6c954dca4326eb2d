/**
 * The original system's tag rule for who may use which backend: a user
 * without tags may use every backend; a backend without tags serves
 * everyone; otherwise the user and the backend must share a tag. berry adds
 * one rule: a user tagged `admin` may use every backend (so berry-health,
 * run with an admin token, still checks tagged backends).
 */
import type { Backend } from '../config/types.js'

export const ADMIN_TAG = 'admin'

export interface TaggedUser {
  readonly tags?: readonly string[] | undefined
}

/** True when the tag rule never leaves a backend out for this user. */
export function seesEveryBackend (user: TaggedUser): boolean {
  const tags = user.tags
  return tags === undefined || tags.length === 0 || tags.includes(ADMIN_TAG)
}

export function mayUseBackend (user: TaggedUser, backend: Backend): boolean {
  const tags = user.tags
  if (backend.tags.length === 0 || tags === undefined || seesEveryBackend(user)) return true
  return backend.tags.some((tag) => tags.includes(tag))
}
