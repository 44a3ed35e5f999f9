import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { HttpClient } from '@actions/http-client'
import { FatalError, TransientError } from './errors.js'
import { describeUrl } from './secrets.js'

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

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 10

/**
 * @actions/http-client over node:http: it streams, keeps connections alive and honours
 * HTTPS_PROXY / NO_PROXY. One client per origin (scheme, host, port): a client keeps the agent of
 * its first request, direct or a proxy tunnel, whatever the next URL is, so one shared client sent
 * an `https:` file URL to an `http:` agent, or through a tunnel made for another host and scheme.
 * Redirects are followed here rather than by the client, for the same reason, and each hop gets its
 * own copy of the headers: the caller's object is never edited, and Authorization is dropped once a
 * redirect leaves the origin, as curl does.
 */
export function createHttp(options: { socketTimeoutMs: number }): Http & { dispose(): void } {
  const clients = new Map<string, HttpClient>()
  const clientFor = (url: URL): HttpClient => {
    let client = clients.get(url.origin)
    if (!client) {
      client = new HttpClient(USER_AGENT, [], {
        keepAlive: true,
        allowRetries: false,
        allowRedirects: false,
        socketTimeout: options.socketTimeoutMs
      })
      clients.set(url.origin, client)
    }
    return client
  }
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | null,
    followRedirects: boolean
  ): Promise<IncomingMessage> => {
    let current = new URL(url)
    let hopHeaders = { ...headers }
    for (let hop = 0; ; hop++) {
      const res = await clientFor(current).request(method, current.href, body, { ...hopHeaders })
      const { message } = res
      const location = message.headers.location
      if (
        !followRedirects ||
        hop >= MAX_REDIRECTS ||
        !REDIRECTS.has(message.statusCode ?? 0) ||
        location === undefined ||
        !URL.canParse(location, current.href)
      ) {
        return message
      }
      const next = new URL(location, current)
      message.resume()
      if (current.protocol === 'https:' && next.protocol !== 'https:') {
        throw new FatalError(
          `${describeUrl(current.href)} redirected to plain http (${describeUrl(next.href)}): refused`
        )
      }
      if (next.origin !== current.origin) {
        hopHeaders = Object.fromEntries(
          Object.entries(hopHeaders).filter(([name]) => name.toLowerCase() !== 'authorization')
        )
      }
      current = next
    }
  }
  const text = async (message: IncomingMessage, limitBytes: number): Promise<TextResponse> => ({
    status: message.statusCode ?? 0,
    headers: message.headers,
    text: await readLimited(message, limitBytes)
  })
  return {
    async getText(url, headers, limitBytes = 4 * 1024 * 1024, followRedirects = true) {
      return text(await send('GET', url, headers, null, followRedirects), limitBytes)
    },
    async postText(url, headers, body) {
      return text(await send('POST', url, headers, body, false), 4 * 1024 * 1024)
    },
    async getStream(url, headers) {
      const body = await send('GET', url, headers, null, true)
      return { status: body.statusCode ?? 0, headers: body.headers, body }
    },
    dispose: () => {
      for (const client of clients.values()) client.dispose()
      clients.clear()
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
