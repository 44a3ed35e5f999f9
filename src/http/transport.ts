import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { streamBody, type Body, type StreamResponse } from './body.js'
import { HttpClient, getProxyUrl } from '@actions/http-client'
import { DirectPool, directGet } from './direct-get.js'
import { FatalError, TransientError } from '../support/errors.js'
import { describeUrl } from '../support/secrets.js'

export { streamBody, type Body, type StreamResponse }

export const USER_AGENT = 'datafiniti-download-action'

export interface TextResponse {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

/**
 * The API and the file hosts each get their own connections: a signed file URL never shares an
 * agent or a proxy tunnel with the API's token.
 */
export interface Transport {
  api: Http
  files: Http
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
  /**
   * `headOnly`: the caller wants the answer's head and will not read the body, so the request
   * goes the way that is sure to take any answer at once (@actions/http-client): a host whose
   * bodies the direct reader does not take is not asked twice for a probe.
   */
  getStream(
    url: string,
    headers: Record<string, string>,
    options?: { headOnly?: boolean }
  ): Promise<StreamResponse>
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
export function createHttp(options: {
  socketTimeoutMs: number
  /**
   * File bodies on a socket of the action's own (direct-get.ts) where no proxy applies and the
   * host answers simply; false sends every request through @actions/http-client.
   */
  direct?: boolean
}): Http & { dispose(): void } {
  const clients = new Map<string, HttpClient>()
  // Origins whose answers the direct reader did not take (a redirect, a chunked body): asked
  // through the client from then on, so each costs at most one request more per run.
  const indirect = new Set<string>()
  // The direct reader's kept connections: a file's ranged parts reuse them.
  const pool = new DirectPool()
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
    text: await readLimited(streamBody(message), limitBytes)
  })
  return {
    async getText(url, headers, limitBytes = 4 * 1024 * 1024, followRedirects = true) {
      return text(await send('GET', url, headers, null, followRedirects), limitBytes)
    },
    async postText(url, headers, body) {
      return text(await send('POST', url, headers, body, false), 4 * 1024 * 1024)
    },
    async getStream(url, headers, { headOnly = false } = {}) {
      const target = new URL(url)
      if (
        options.direct !== false &&
        !headOnly &&
        (target.protocol === 'http:' || target.protocol === 'https:') &&
        !indirect.has(target.origin) &&
        // The same proxy rules as the client's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY): a request
        // that would go through a proxy goes through the client.
        !getProxyUrl(target.href)
      ) {
        const answer = await directGet(target, headers, {
          timeoutMs: options.socketTimeoutMs,
          userAgent: USER_AGENT,
          pool
        })
        if (answer) return answer
        indirect.add(target.origin)
      }
      const message = await send('GET', url, headers, null, true)
      return {
        status: message.statusCode ?? 0,
        headers: message.headers,
        body: streamBody(message)
      }
    },
    dispose: () => {
      pool.dispose()
      for (const client of clients.values()) client.dispose()
      clients.clear()
    }
  }
}

/**
 * Reads at most `limit` bytes of a body as text and discards the rest, so that a huge error page
 * cannot fill memory.
 */
export async function readLimited(body: Body, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    await body.read(chunk => {
      if (size < limit) {
        // A copy: the chunk's memory may be reused.
        const part = Buffer.from(chunk.subarray(0, limit - size))
        chunks.push(part)
        size += part.length
      }
      return true
    })
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
  signal: AbortSignal,
  options?: { headOnly?: boolean }
): Promise<StreamResponse> {
  signal.throwIfAborted()
  const pending = http.getStream(url, headers, options)
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
