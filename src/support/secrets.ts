import { safeText } from './text.js'

/**
 * Signed file URLs are bearer credentials and a v3 file path can even contain the token, so a URL
 * is only ever shown as its host and file name. The name is decoded, so it is made safe for a log
 * line: `%0A%3A%3A` would otherwise start a workflow command.
 */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    const segments = parsed.pathname.split('/').filter(Boolean)
    // Nothing secret in a bare origin: show it whole.
    if (segments.length === 0 && !parsed.search && !parsed.username) return parsed.origin
    const last = segments.at(-1) ?? ''
    return `${parsed.host}/…/${safeText(safeDecode(last))}`
  } catch {
    return '(unparseable URL)'
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

const URL_PATTERN = /\bhttps?:\/\/[^\s"'<>]+/gi
/**
 * A query parameter that may hold a credential, whatever the signer calls it: `X-Amz-Signature`,
 * `X-Amz-Security-Token`, `X-Amz-Credential`, `Signature`, `X-Goog-Signature`, `sig`, `sv`'s
 * `sig`, `AWSAccessKeyId`, `api_key`, `token`...
 */
const CREDENTIAL_NAME = /signature|sig|token|credential|key/i
const CREDENTIAL_PARAM =
  /([?&][^=&\s"'<>?#]*(?:signature|sig|token|credential|key)[^=&\s"'<>?#]*=)[^&\s"'<>#]*/gi
/** A path with a query outside a URL (`GET /a/b.csv?X-Amz-...`), as some libraries word errors. */
const PATH_QUERY = /(^|[\s"'(=:])(\/[^\s"'<>?]*)\?[^\s"'<>]*/g

const registered = new Set<string>()

/** Secrets that every later redact() removes, wherever the text came from. */
export function registerSecret(secret: string): void {
  if (secret.length >= 4) registered.add(secret)
}

/**
 * Removes secrets from text that may reach the log: the given literal secrets, any URL (reduced to
 * host and file name) and any stray signature parameter. Defence in depth for error messages that
 * carry text from other libraries or from a server.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text
  for (const secret of [...secrets, ...registered]) {
    if (secret.length >= 4) out = out.split(secret).join('***')
  }
  out = out.replace(URL_PATTERN, match => describeUrl(match))
  out = out.replace(CREDENTIAL_PARAM, '$1***')
  return out.replace(PATH_QUERY, (_match, before: string, pathname: string) => {
    const last = pathname.split('/').filter(Boolean).at(-1) ?? ''
    return `${before}/…/${safeText(safeDecode(last))}`
  })
}

/** Every form the token takes on the wire or in a URL: the token, its Basic form, URL-encoded. */
export function tokenSecrets(token: string): string[] {
  if (token === '') return []
  const basic = Buffer.from(`${token}:`).toString('base64')
  return [...new Set([token, basic, encodeURIComponent(token)])]
}

/**
 * What to mask of a URL the API hands out, in every form it may be printed: the URL, its path
 * (a v3 path holds the token), and each credential-like parameter's value as sent and decoded.
 */
export function urlSecrets(url: string): string[] {
  if (!URL.canParse(url)) return url.length >= 8 ? [url] : []
  const parsed = new URL(url)
  const found = new Set([url, parsed.href, `${parsed.origin}${parsed.pathname}`])
  // A short path (`/a.csv`) is no credential, and masking it would hide ordinary text.
  if (parsed.pathname.length >= 16) found.add(parsed.pathname)
  for (const pair of parsed.search.slice(1).split('&')) {
    const [name = '', raw = ''] = pair.split('=', 2)
    if (!CREDENTIAL_NAME.test(safeDecode(name)) || raw.length < 8) continue
    found.add(raw)
    found.add(safeDecode(raw.replace(/\+/g, ' ')))
    found.add(encodeURIComponent(safeDecode(raw)))
  }
  return [...found].filter(secret => secret.length >= 8)
}
