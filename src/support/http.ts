import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { HttpClient } from '@actions/http-client'
import { TransientError } from './errors.js'

export const USER_AGENT = 'datafiniti-download-action'

export interface TextResponse {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

export interface StreamResponse {
  status: number
  headers: IncomingHttpHeaders
  body: IncomingMessage
}

/** The two HTTP verbs the action needs, as a small interface so tests can pass plain objects. */
export interface Http {
  getText(
    url: string,
    headers: Record<string, string>,
    limitBytes?: number,
    followRedirects?: boolean
  ): Promise<TextResponse>
  /** A POST that is never retried nor redirected by the client: creating is not idempotent. */
  postText(url: string, headers: Record<string, string>, body: string): Promise<TextResponse>
  getStream(url: string, headers: Record<string, string>): Promise<StreamResponse>
}

/**
 * @actions/http-client over node:http: it streams, keeps connections alive and honours
 * HTTPS_PROXY / NO_PROXY. Redirects are followed by the client, which drops Authorization when the
 * host changes.
 */
export function createHttp(options: { socketTimeoutMs: number }): Http & { dispose(): void } {
  const common = { keepAlive: true, allowRetries: false, socketTimeout: options.socketTimeoutMs }
  const client = new HttpClient(USER_AGENT, [], common)
  // For answers whose redirect is the result itself (v3 create answers 303 with the new id).
  const direct = new HttpClient(USER_AGENT, [], { ...common, allowRedirects: false })
  const text = async (
    res: Awaited<ReturnType<HttpClient['get']>>,
    limitBytes: number
  ): Promise<TextResponse> => ({
    status: res.message.statusCode ?? 0,
    headers: res.message.headers,
    text: await readLimited(res.message, limitBytes)
  })
  return {
    async getText(url, headers, limitBytes = 4 * 1024 * 1024, followRedirects = true) {
      return text(await (followRedirects ? client : direct).get(url, headers), limitBytes)
    },
    async postText(url, headers, body) {
      return text(await direct.post(url, body, headers), 4 * 1024 * 1024)
    },
    async getStream(url, headers) {
      const res = await client.get(url, headers)
      return {
        status: res.message.statusCode ?? 0,
        headers: res.message.headers,
        body: res.message
      }
    },
    dispose: () => {
      client.dispose()
      direct.dispose()
    }
  }
}

/**
 * Reads at most `limit` bytes of a body as text and discards the rest, so that a huge error page
 * cannot fill memory.
 */
export async function readLimited(body: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (size < limit) {
        const part = chunk.subarray(0, limit - size)
        chunks.push(part)
        size += part.length
      }
    }
  } catch (error) {
    throw new TransientError(
      `the connection broke while reading the response (${(error as Error).message})`
    )
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A header's value, the first one when it came more than once. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** `Content-Length` as a number, when the server sent a valid one. */
export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['content-length']
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined
  return Number(raw)
}

/**
 * A file request that gives up when the signal aborts (a cancelled job), even while the host has
 * not answered yet: a late answer is then thrown away. The client itself takes no signal.
 */
export async function getStreamUnlessAborted(
  http: Http,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal
): Promise<StreamResponse> {
  signal.throwIfAborted()
  const pending = http.getStream(url, headers)
  let onAbort = (): void => undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    const res = await Promise.race([pending, aborted])
    if (signal.aborted) {
      res.body.destroy()
      throw signal.reason
    }
    return res
  } catch (error) {
    pending.then(
      res => res.body.destroy(),
      () => undefined
    )
    throw error
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
