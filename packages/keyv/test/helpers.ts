import { EventEmitter } from 'node:events'
import type { KeyvStoreAdapter, StoredData } from 'keyv'

/**
 * A Keyv storage adapter on a Map with no `iterator()` (like most third-party adapters), that can
 * be told to fail or to hang: faults are injected into a real store, never mocked.
 */
export class PlainAdapter extends EventEmitter implements KeyvStoreAdapter {
  opts: Record<string, unknown> = { dialect: 'plain' }
  namespace: string | undefined
  readonly map = new Map<string, { value: unknown; expiresAt: number | undefined }>()
  failing = false
  hanging = false

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    await this.#fault()
    const found = this.map.get(key)
    if (found === undefined) return undefined
    if (found.expiresAt !== undefined && found.expiresAt <= Date.now()) {
      this.map.delete(key)
      return undefined
    }
    return found.value as StoredData<Value>
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.#fault()
    this.map.set(key, { value, expiresAt: typeof ttl === 'number' ? Date.now() + ttl : undefined })
    return true
  }

  async delete(key: string): Promise<boolean> {
    await this.#fault()
    return this.map.delete(key)
  }

  async clear(): Promise<void> {
    await this.#fault()
    this.map.clear()
  }

  async #fault(): Promise<void> {
    if (this.hanging) await new Promise(() => {})
    if (this.failing) throw new Error('plain adapter: backend unavailable')
  }
}

/** Every byte value, in order. */
export const ALL_BYTES: Buffer = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
