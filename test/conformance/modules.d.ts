// Express 4 and Koa 2 are installed under other names (npm:express@^4, npm:koa@^2); their APIs
// are the ones @types/express and @types/koa describe, close enough for these tests.
declare module 'express4' {
  import express from 'express'
  export = express
}
declare module 'koa2' {
  import Koa from 'koa'
  export = Koa
}
declare module 'fastify4' {
  import Fastify from 'fastify'
  export default Fastify
}
