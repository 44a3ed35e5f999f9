/** S3-style pre-signed file URLs: the API roles hand them out, the file host checks them. */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { SimState } from './state.js'
import type { SimFile } from './types.js'

const SIGNING_KEY = randomBytes(32)

function sign(path: string, amzDate: string, expires: string): string {
  return createHmac('sha256', SIGNING_KEY).update(`${path}\n${amzDate}\n${expires}`).digest('hex')
}

/** A URL for `file`, remembered as handed out by the `generation`th `/results` answer. */
export function signedUrl(state: SimState, file: SimFile, generation: number): string {
  const prefix = state.options.filePrefix ?? state.options.token
  const path = `/${encodeURIComponent(prefix)}/${encodeURIComponent(file.name)}`
  // Distinct per answer, as real pre-signed URLs are (their date differs).
  const amzDate = new Date(Date.now() + generation * 1000)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+/, '')
  const expires = '604800'
  const signature = sign(path, amzDate, expires)
  const query = new URLSearchParams({
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `AKIASIMULATOR/${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': expires,
    'X-Amz-SignedHeaders': 'host',
    'X-Amz-Signature': signature
  })
  state.filesByPath.set(path, file)
  state.generationOf.set(signature, generation)
  return `${state.fileOrigin}${path}?${query.toString()}`
}

/** The file a URL was validly signed for, and which answer signed it; undefined if none. */
export function verifySignedUrl(
  state: SimState,
  url: URL
): { file: SimFile; generation: number } | undefined {
  const file = state.filesByPath.get(url.pathname)
  const q = url.searchParams
  const signature = q.get('X-Amz-Signature') ?? ''
  const expected = sign(url.pathname, q.get('X-Amz-Date') ?? '', q.get('X-Amz-Expires') ?? '')
  if (
    !file ||
    signature.length !== expected.length ||
    !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  ) {
    return undefined
  }
  return { file, generation: state.generationOf.get(signature) ?? 0 }
}
