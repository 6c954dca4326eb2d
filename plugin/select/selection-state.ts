/**
 * Selection state that belongs to one gateway instance and is never shared:
 * round_robin's turn per model. (least_latency's moving averages live with
 * health, in the HealthTracker, which is per instance too.)
 */
export class SelectionState {
  readonly #turns = new Map<string, number>()

  /** 0, 1, 2, ... for successive calls with the same model key. */
  nextTurn (modelKey: string): number {
    const turn = this.#turns.get(modelKey) ?? 0
    this.#turns.set(modelKey, turn + 1 >= Number.MAX_SAFE_INTEGER ? 0 : turn + 1)
    return turn
  }
}
