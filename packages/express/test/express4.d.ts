// Express 4 is installed under the alias `express4` to test both majors; its API for these tests
// is the one @types/express describes.
declare module 'express4' {
  import express from 'express'
  export default express
}
