/**
 * Whether an X-Forwarded-Proto value may count as applied to a request whose cache key holds
 * `keyProtocol`: only when it is exactly one scheme, `http` or `https`, and that scheme is the
 * key's. Schemes are case-insensitive (RFC 9110 §4.2.3, RFC 3986 §3.1), so `HTTPS`
 * is `https`; surrounding OWS is not part of a field value (RFC 9110 §5.5). Anything else —
 * `nothttps`, `javascript`, `ftp`, a list (`ftp, https`), several field lines, an empty value, a
 * scheme other than the key's — is not applied: the framework may have reflected it into the
 * response (a redirect to `nothttps://…`, say), and the key does not hold it, so the request must
 * bypass rather than store what it produced (issue 14, X-Forwarded-Proto poisoning).
 *
 * @example
 * ```ts
 * forwardedProtoApplied('https', 'https')       // true
 * forwardedProtoApplied('HTTPS', 'https')       // true
 * forwardedProtoApplied('nothttps', 'http')     // false
 * forwardedProtoApplied('ftp, https', 'https')  // false
 * forwardedProtoApplied('https', 'http')        // false
 * ```
 */
export function forwardedProtoApplied(
  value: string | readonly string[] | undefined,
  keyProtocol: 'http' | 'https'
): boolean {
  if (value === undefined) return false
  let text: string
  if (typeof value === 'string') text = value
  else if (value.length === 1) text = value[0] as string
  else return false
  const scheme = text.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase()
  return (scheme === 'http' || scheme === 'https') && scheme === keyProtocol
}
