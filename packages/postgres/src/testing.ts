export { startTemporaryPostgres, findPostgresBinaries } from './testing/temporary-postgres.js'
export type { TemporaryPostgres, TemporaryPostgresOptions } from './testing/temporary-postgres.js'
