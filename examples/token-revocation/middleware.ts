// Thin Express and Koa middleware over the framework-neutral revocation list of @cachewire/core.
// Candidates for @cachewire/express and @cachewire/koa; kept here until the adapters settle.
import type { RequestHandler, Request } from 'express'
import type { Context, Middleware } from 'koa'
import { StoreUnavailableError, type RevocationList } from '@cachewire/core'

/** Express: 401 for a revoked bearer token; 503 when the list cannot be checked (fails closed). */
export function expressRevocation(
  list: RevocationList,
  token: (req: Request) => string | undefined
): RequestHandler {
  const gate = list.handler({ token })
  return function revocationCheck(req, res, next) {
    gate(req, res).then((proceed) => {
      if (proceed) next()
    }, next)
  }
}

/** Koa: the same, through ctx.status / ctx.body. */
export function koaRevocation(
  list: RevocationList,
  token: (ctx: Context) => string | undefined
): Middleware {
  return async function revocationCheck(ctx, next) {
    const value = token(ctx)
    if (value === undefined || value === '') return next()
    let revoked: boolean
    try {
      revoked = await list.isRevoked(value)
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error
      ctx.status = 503
      ctx.set('Retry-After', '1')
      ctx.body = 'Service Unavailable: the revocation list could not be checked'
      return
    }
    if (revoked) {
      ctx.status = 401
      ctx.set(
        'WWW-Authenticate',
        'Bearer error="invalid_token", error_description="The token has been revoked"'
      )
      ctx.body = 'Unauthorized: the token has been revoked'
      return
    }
    await next()
  }
}

/** The bearer token of a request, if any. */
export function bearer(authorization: string | undefined): string | undefined {
  return authorization?.startsWith('Bearer ') === true ? authorization.slice(7) : undefined
}
