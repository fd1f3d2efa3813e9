// `koa2` is Koa 2 installed under another name (npm:koa@^2); its API is the one @types/koa describes.
declare module 'koa2' {
  import Koa from 'koa'
  export = Koa
}
