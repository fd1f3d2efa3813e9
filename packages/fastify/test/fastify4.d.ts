// Fastify 4 and @fastify/compress 7 are installed under aliases to test both majors; their APIs for
// these tests are the ones Fastify 5's and @fastify/compress 8's types describe.
declare module 'fastify4' {
  import Fastify from 'fastify'
  export default Fastify
}
declare module 'fastify-compress7' {
  import compress from '@fastify/compress'
  export default compress
}
