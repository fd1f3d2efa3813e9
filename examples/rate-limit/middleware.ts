// Thin Express and Koa middleware over the framework-neutral rate limiter of @cachewire/core.
// Candidates for @cachewire/express and @cachewire/koa; kept here until the adapters settle.
import type { RequestHandler, Request } from 'express'
import type { Context, Middleware } from 'koa'
import type { RateLimiter } from '@cachewire/core'

/** Express: sets RateLimit-Policy and RateLimit on every response; 429 with Retry-After when refused. */
export function expressRateLimit(
  limiter: RateLimiter,
  key: (req: Request) => string | undefined
): RequestHandler {
  const gate = limiter.handler({ key })
  return function rateLimited(req, res, next) {
    gate(req, res).then((proceed) => {
      if (proceed) next()
    }, next)
  }
}

/** Koa: the same, through ctx.set / ctx.status / ctx.body so Koa writes the response. */
export function koaRateLimit(
  limiter: RateLimiter,
  key: (ctx: Context) => string | undefined
): Middleware {
  return async function rateLimited(ctx, next) {
    const id = key(ctx)
    if (id === undefined || id === '') return next()
    const decision = await limiter.check(id)
    ctx.set(decision.fields as Record<string, string>)
    if (!decision.allowed) {
      ctx.status = decision.unavailable ? 503 : 429
      ctx.body = decision.unavailable ? 'Service Unavailable' : 'Too Many Requests'
      return
    }
    await next()
  }
}
