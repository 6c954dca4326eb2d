/**
 * Finding a public model and a pinned backend in the config. Pure: no I/O,
 * no Fastify. The messages of `findPinnedBackend` are the spec's, to the letter.
 */
import type { Backend, BerryConfig, Model } from '../config/types.js'
import { mayUseBackend, type TaggedUser } from './tags.js'

/** `gpt-3.5-turbo` -> `gpt_3_5_turbo`: how the spec's keys name public models. */
export function modelKeyOf (name: string): string {
  return name.replace(/[^A-Za-z0-9]+/g, '_')
}

/** By `name`, else by table key, else by the key the name maps to. */
export function findModel (config: BerryConfig, requested: string): Model | undefined {
  return config.models.get(requested) ??
    config.modelsByKey.get(requested) ??
    config.modelsByKey.get(modelKeyOf(requested))
}

/**
 * Whether the user's allow-list covers `model`. Each entry resolves exactly
 * as a request's model would (name first, then key, then normalised key), so
 * an entry grants the one model it names and never a second model whose key
 * it happens to normalise to (`gpt-4o` naming one model while another's key
 * is `gpt_4o`).
 */
export function userMayUse (user: { readonly allowedModels?: readonly string[] | undefined }, model: Model, config: BerryConfig): boolean {
  const allowed = user.allowedModels
  if (allowed === undefined || allowed.length === 0) return true
  return allowed.some((entry) => findModel(config, entry) === model)
}

export type PinnedLookup =
  | { ok: true, model: Model, backend: Backend }
  | { ok: false, reason: string }

/**
 * The spec's `select_specific_backend`: the model must exist and be enabled,
 * and one of its backends must name the provider, with backend and provider
 * both enabled. Health is deliberately not consulted: pinning is how an
 * operator checks a sick backend. Permissions are: a backend the user's tags
 * do not open (select/tags.ts) answers exactly as one that does not exist,
 * so pinning never bypasses them and reveals nothing.
 */
export function findPinnedBackend (config: BerryConfig, requestedModel: string, providerId: string, user: TaggedUser): PinnedLookup {
  const model = findModel(config, requestedModel)
  if (model === undefined || !model.enabled) {
    return { ok: false, reason: `Model '${requestedModel}' not found` }
  }
  const backend = model.backends.find((b) => b.provider.id === providerId && b.enabled && b.provider.enabled && mayUseBackend(user, b))
  if (backend === undefined) {
    return { ok: false, reason: `Backend '${providerId}' not found or disabled for model '${requestedModel}'` }
  }
  return { ok: true, model, backend }
}
