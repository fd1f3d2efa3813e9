/**
 * Keyv's own compliance suite for storage adapters, run against KeyvCachewire. Each `store()`
 * call makes a new adapter over a new Cache on one shared MemoryStore, the way the suite expects
 * (several Keyv instances, one backend). The iterator tests are not run: a Cache cannot list keys,
 * so the adapter offers no `iterator()` and Keyv reports it as not iterable.
 */
import { Cache, MemoryStore } from '@cachewire/core'
import keyvTestSuite from '@keyv/test-suite'
import { Keyv } from 'keyv'
import * as vitest from 'vitest'
import { KeyvCachewire } from '../src/index.js'

const backend = new MemoryStore()

keyvTestSuite(vitest, Keyv, () => new KeyvCachewire(new Cache({ store: backend })))
