/** Keys remembered at most while L2 is down; past this, the outage is reconciled by emptying L1 instead. */
const MAX_OUTAGE_KEYS = 10_000

export interface OutageStats {
  /** Whether the last L2 call failed (and no later one has succeeded). */
  l2Down: boolean
  /** Keys written or deleted while L2 was down, waiting to be reconciled. */
  pending: number
  /** Keys reconciled (deleted from L2 and L1, peers told) since the store was built. */
  reconciled: number
  /** Keys written during outages that could not be remembered (over the bound); reported through `onError`. */
  untracked: number
}

/**
 * What a tiered store owes L2 after an outage: the keys it wrote or deleted while L2 could not be
 * reached. Reconciling deletes each of them from L2 (and from every L1), so every process reloads
 * it from the source of truth. Values are never replayed: a peer may have written a newer value in
 * the meantime, and a cache cannot order the two; deleting is always safe.
 */
export class OutageLog {
  readonly #keys = new Set<string>()
  #down = false
  #untracked = 0
  #reconciled = 0
  #reconciling: Promise<void> | undefined

  get down(): boolean {
    return this.#down
  }

  /** L2 failed; `key`, if given, was written or deleted in L1 only. */
  failed(key?: string): void {
    this.#down = true
    if (key === undefined) return
    if (this.#keys.size < MAX_OUTAGE_KEYS || this.#keys.has(key)) this.#keys.add(key)
    else this.#untracked++
  }

  /**
   * L2 answered. If an outage left work, runs `reconcile(keys, untracked)` once (concurrent calls
   * share it); keys written again meanwhile are kept for the next round.
   */
  succeeded(reconcile: (keys: readonly string[], untracked: number) => Promise<void>): void {
    this.#down = false
    if ((this.#keys.size === 0 && this.#untracked === 0) || this.#reconciling !== undefined) return
    const keys = [...this.#keys]
    const untracked = this.#untracked
    this.#keys.clear()
    this.#untracked = 0
    this.#reconciling = reconcile(keys, untracked)
      .then(
        () => void (this.#reconciled += keys.length),
        () => {
          // Not applied: owed again, at the next success.
          for (const key of keys) this.failed(key)
          this.#untracked += untracked
        }
      )
      .finally(() => (this.#reconciling = undefined))
  }

  /** Resolves once a reconciliation under way (if any) has finished. */
  async settled(): Promise<void> {
    await this.#reconciling
  }

  stats(): OutageStats {
    return {
      l2Down: this.#down,
      pending: this.#keys.size,
      reconciled: this.#reconciled,
      untracked: this.#untracked,
    }
  }
}
