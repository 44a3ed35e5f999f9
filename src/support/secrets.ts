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
const SIGNATURE_PARAM =
  /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId|sig)=)[^&\s"'<>]*/gi

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
  return out.replace(SIGNATURE_PARAM, '$1***')
}

/** Every form the token takes on the wire or in a URL: the token, its Basic form, URL-encoded. */
export function tokenSecrets(token: string): string[] {
  if (token === '') return []
  const basic = Buffer.from(`${token}:`).toString('base64')
  return [...new Set([token, basic, encodeURIComponent(token)])]
}

/** The signatures of signed URLs: each is a credential on its own. */
export function signatureSecrets(urls: readonly string[]): string[] {
  const found = new Set<string>()
  for (const url of urls) {
    if (!URL.canParse(url)) continue
    for (const [key, value] of new URL(url).searchParams) {
      if (/signature|security-token/i.test(key) && value.length >= 8) found.add(value)
    }
  }
  return [...found]
}
