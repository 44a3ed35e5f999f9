/** S3-style pre-signed file URLs: the API roles hand them out, the file host checks them. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { SimState } from './state.js'
import type { SignatureStyle, SimFile } from './types.js'

const SIGNING_KEY = randomBytes(32)

/**
 * A session token as temporary AWS credentials carry it: long, and with `+`, `/` and `=`, so its
 * URL-encoded form differs from it.
 */
export const SIM_SECURITY_TOKEN =
  'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+sim/Token+With/Slashes=='

/** The parameter names of each signer: the signature, its date and its lifetime. */
const STYLES: Record<SignatureStyle, { signature: string; date: string; expires: string }> = {
  amz: { signature: 'X-Amz-Signature', date: 'X-Amz-Date', expires: 'X-Amz-Expires' },
  'amz-token': { signature: 'X-Amz-Signature', date: 'X-Amz-Date', expires: 'X-Amz-Expires' },
  signature: { signature: 'Signature', date: 'Date', expires: 'Expires' },
  goog: { signature: 'X-Goog-Signature', date: 'X-Goog-Date', expires: 'X-Goog-Expires' }
}

function sign(path: string, date: string, expires: string, style: SignatureStyle): string {
  const mac = createHmac('sha256', SIGNING_KEY).update(`${path}\n${date}\n${expires}`)
  // CloudFront's signatures are base64 (with `+`, `/`, `=`); the others hex.
  return style === 'signature' ? mac.digest('base64') : mac.digest('hex')
}

function extraParams(style: SignatureStyle, date: string): Record<string, string> {
  const day = date.slice(0, 8)
  switch (style) {
    case 'amz':
      return {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `AKIASIMULATOR/${day}/us-east-1/s3/aws4_request`
      }
    case 'amz-token':
      return {
        'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
        'X-Amz-Credential': `ASIASIMULATOR/${day}/us-east-1/s3/aws4_request`,
        'X-Amz-Security-Token': SIM_SECURITY_TOKEN
      }
    case 'signature':
      return { 'Key-Pair-Id': 'K2SIMULATOR' }
    case 'goog':
      return {
        'X-Goog-Algorithm': 'GOOG4-RSA-SHA256',
        'X-Goog-Credential': `sim@sim.iam.gserviceaccount.com/${day}/auto/storage/goog4_request`
      }
  }
}

/** A URL for `file`, remembered as handed out by the `generation`th `/results` answer. */
export function signedUrl(state: SimState, file: SimFile, generation: number): string {
  const prefix = state.options.filePrefix ?? state.options.token
  const path = `/${encodeURIComponent(prefix)}/${encodeURIComponent(file.name)}`
  const styles = file.signatureStyles ?? ['amz']
  const style = styles[Math.min(Math.max(generation, 1), styles.length) - 1] ?? 'amz'
  const names = STYLES[style]
  // Distinct per answer, as real pre-signed URLs are (their date differs).
  const date = new Date(Date.now() + generation * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+/, '')
  const expires = '604800'
  const signature = sign(path, date, expires, style)
  const query = new URLSearchParams({
    ...extraParams(style, date),
    [names.date]: date,
    [names.expires]: expires,
    ...(style === 'signature'
      ? {}
      : { [names.signature.replace('Signature', 'SignedHeaders')]: 'host' }),
    [names.signature]: signature
  })
  state.filesByPath.set(path, file)
  state.generationOf.set(signature, generation)
  return `${file.origin ?? state.fileOrigin}${path}?${query.toString()}`
}

/** The file a URL was validly signed for, and which answer signed it; undefined if none. */
export function verifySignedUrl(
  state: SimState,
  url: URL
): { file: SimFile; generation: number } | undefined {
  const file = state.filesByPath.get(url.pathname)
  const q = url.searchParams
  for (const [style, names] of Object.entries(STYLES) as [
    SignatureStyle,
    (typeof STYLES)['amz']
  ][]) {
    const signature = q.get(names.signature)
    if (signature === null || (style === 'amz-token') !== q.has('X-Amz-Security-Token')) continue
    const expected = sign(url.pathname, q.get(names.date) ?? '', q.get(names.expires) ?? '', style)
    if (
      !file ||
      signature.length !== expected.length ||
      !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    ) {
      return undefined
    }
    return { file, generation: state.generationOf.get(signature) ?? 0 }
  }
  return undefined
}
