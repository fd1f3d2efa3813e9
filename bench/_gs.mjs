import { LRUCache } from 'lru-cache'
import { MemoryStore } from '@cachewire/core'
const KEYS = 10_000, OPS = Number(process.env.OPS)
const value = Buffer.alloc(100, 1)
const keys = Array.from({ length: KEYS }, (_, i) => `key:${i}`)
const lru = new LRUCache({ maxSize: 64 * 1024 * 1024, sizeCalculation: (v, k) => v.byteLength + k.length * 2 + 96 })
const store = new MemoryStore({ maxBytes: 64 * 1024 * 1024 })
for (const key of keys) { lru.set(key, value, { ttl: 600_000 }); await store.set(key, value, { ttlMs: 600_000 }) }
const mode = process.env.MODE
let sink = 0
// warm both the same way
for (let r = 0; r < 20; r++) { for (let i = 0; i < 100000; i++) { sink += lru.get(keys[i % KEYS]).length; sink += store.getSync(keys[i % KEYS]).length } }
if (mode === 'lru') for (let i = 0; i < OPS; i++) sink += lru.get(keys[i % KEYS]).length
if (mode === 'store') for (let i = 0; i < OPS; i++) sink += store.getSync(keys[i % KEYS]).length
console.log(sink > 0)
