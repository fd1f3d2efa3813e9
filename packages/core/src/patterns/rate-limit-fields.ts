/**
 * The header fields of draft-ietf-httpapi-ratelimit-headers (draft 11, May 2026), in their
 * Structured Field form (RFC 9651): `RateLimit-Policy` (§3) names the policy with its quota `q`
 * and window `w` in seconds; `RateLimit` (§4) gives what is left, `r`, and the effective window
 * `t` in seconds. Per §6, a `Retry-After` sent with them never points earlier than the end of the
 * effective window, so on a denial both carry the same number of seconds.
 *
 * Revisit when the draft becomes an RFC: older drafts used `RateLimit-Limit`/`-Remaining`/`-Reset`.
 */
export interface RateLimitFields {
  'RateLimit-Policy': string
  RateLimit: string
  'Retry-After'?: string
}

/** A policy name as a Structured Field String: printable ASCII, `"` and `\` escaped (RFC 9651 §3.3.3). */
const SF_STRING_CHARS = /^[\x20-\x7e]*$/

export function isPolicyName(name: unknown): name is string {
  return (
    typeof name === 'string' && name.length > 0 && name.length <= 64 && SF_STRING_CHARS.test(name)
  )
}

function sfString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** `"name";q=<quota>;w=<window seconds>` — constant for a limiter. */
export function policyField(name: string, quota: number, windowSeconds: number): string {
  return `${sfString(name)};q=${quota};w=${windowSeconds}`
}

/** The fields of one decision. */
export function rateLimitFields(
  policy: string,
  name: string,
  remaining: number,
  resetSeconds: number,
  retryAfterSeconds: number | undefined
): RateLimitFields {
  const fields: RateLimitFields = {
    'RateLimit-Policy': policy,
    RateLimit: `${sfString(name)};r=${remaining};t=${resetSeconds}`,
  }
  if (retryAfterSeconds !== undefined) fields['Retry-After'] = String(retryAfterSeconds)
  return fields
}
