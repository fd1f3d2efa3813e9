export { createPostgresSink } from './sink.js'
export type {
  PostgresSink,
  PostgresSinkOptions,
  PostgresSinkStats,
  SinkBatchContext,
} from './sink.js'
export { withTransaction } from './transaction.js'
export type { AfterCommit, Transaction, WithTransactionOptions } from './transaction.js'
export {
  installInvalidationTriggers,
  removeInvalidationTriggers,
  DEFAULT_CHANNEL,
  DEFAULT_CHANGES_TABLE,
} from './triggers.js'
export type { InvalidationTriggerOptions } from './triggers.js'
export { InvalidationListener } from './listener.js'
export type {
  InvalidationListenerOptions,
  InvalidationListenerEvents,
  AppliedChange,
  ListenerState,
} from './listener.js'
export { parseTemplate } from './templates.js'
export type { Template } from './templates.js'
export type { ConnectionSource, Queryable } from './sql.js'
