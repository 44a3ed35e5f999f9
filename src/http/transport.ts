import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import { contentLength, header, streamBody, type Body, type StreamResponse } from './body.js'
import { getProxyUrl } from '@actions/http-client'
import {
  FIRST_HOP,
  checkFileUrl,
  guardedLookup,
  isLoopbackHost,
  systemLookup,
  type Lookup
} from './address.js'
import { ClientPool, unsentError } from './client-pool.js'
import { AnswerTooLargeError, guardBody, readLimited, type Scope } from './deadline.js'
import { DirectPool, directGet } from './direct-get.js'
import { AbortFanout } from '../support/abort.js'
import { FatalError } from '../support/errors.js'
import { formatBytes } from '../support/format.js'
import { describeUrl } from '../support/secrets.js'

export { contentLength, header, readLimited, streamBody, type Body, type StreamResponse }

const USER_AGENT = 'datafiniti-download-action'

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
  getStream(url: string, headers: Record<string, string>): Promise<StreamResponse>
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 10
/**
 * The most an API answer may be: a v3 result list carries one signed URL of 1–2 KiB per file, so
 * a list of thousands of files is a few MiB; past this the answer is not one to parse.
 */
export const MAX_API_ANSWER = 16 * 1024 * 1024

export interface HttpOptions {
  /** No answer's head, or no byte of its body, for this long: the socket is destroyed. */
  socketTimeoutMs: number
  /**
   * File bodies on a socket of the action's own (direct-get.ts) where no proxy applies and the
   * host answers simply; false sends every request through @actions/http-client.
   */
  direct?: boolean
  /** The run's signal: a cancelled job destroys every socket at once, mid-answer or not. */
  signal?: AbortSignal
  /**
   * File hosts: https only (loopback excepted), on every redirect hop, and where each may connect
   * is checked on the resolved address (address.ts); `lookup` resolves names (dns.lookup).
   */
  files?: { lookup?: Lookup }
}

/**
 * @actions/http-client over node:http: it streams, keeps connections alive and honours
 * HTTPS_PROXY / NO_PROXY. One client per origin (scheme, host, port) and address rule: a client
 * keeps the agent of its first request, direct or a proxy tunnel, whatever the next URL is, so one
 * shared client sent an `https:` file URL to an `http:` agent, or through a tunnel made for
 * another host and scheme. Redirects are followed here rather than by the client, for the same
 * reason, and each hop gets its own copy of the headers: the caller's object is never edited, and
 * Authorization is dropped once a redirect leaves the origin, as curl does.
 */
export function createHttp(options: HttpOptions): Http & { dispose(): void } {
  // Origins whose answers the direct reader did not take (a redirect, a chunked body): asked
  // through the client from then on, so each costs at most one request more per run.
  const indirect = new Set<string>()
  const fanout = options.signal ? new AbortFanout(options.signal) : undefined
  const scope: Scope = () => fanout?.child() ?? { signal: undefined, dispose: () => undefined }
  const guard = { idleMs: options.socketTimeoutMs, scope }
  const lookup = options.files?.lookup ?? systemLookup
  const clients = new ClientPool(USER_AGENT, options.socketTimeoutMs, scope, lookup)
  const firstLookup = options.files ? guardedLookup(lookup, FIRST_HOP) : undefined
  const guarded = (res: StreamResponse, url: URL): StreamResponse => ({
    ...res,
    body: guardBody(res.body, guard, url.host, stageOf(res.status))
  })
  const kept = new DirectPool() // the direct reader's kept connections, for ranged parts
  const send = async (
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | null,
    followRedirects: boolean
  ): Promise<IncomingMessage> => {
    let current = new URL(url)
    let hopHeaders = { ...headers }
    let rule = options.files ? FIRST_HOP : undefined
    for (let hop = 0; ; hop++) {
      const message = await clients.ask(method, current, hopHeaders, body, rule)
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
      if (options.files) {
        // A redirect may reach neither a private network nor, from elsewhere, this machine.
        rule = { private: false, loopback: isLoopbackHost(current) }
        checkFileUrl(next, rule, current)
      }
      if (next.origin !== current.origin) {
        hopHeaders = Object.fromEntries(
          Object.entries(hopHeaders).filter(([name]) => name.toLowerCase() !== 'authorization')
        )
      }
      current = next
    }
  }
  const text = async (
    url: string,
    message: IncomingMessage,
    limit: number
  ): Promise<TextResponse> => {
    const status = message.statusCode ?? 0
    const body = guardBody(streamBody(message), guard, new URL(url).host, stageOf(status))
    try {
      return { status, headers: message.headers, text: await readLimited(body, limit, 'fail') }
    } catch (error) {
      if (!(error instanceof AnswerTooLargeError)) throw error
      throw new AnswerTooLargeError(
        `${describeUrl(url)} answered HTTP ${status} with more than ${formatBytes(limit)}, the most ` +
          'an API answer may be (the longest result lists take a few MiB): not read.'
      )
    }
  }
  return {
    async getText(url, headers, limitBytes = MAX_API_ANSWER, followRedirects = true) {
      return text(url, await send('GET', url, headers, null, followRedirects), limitBytes)
    },
    async postText(url, headers, body) {
      return text(url, await send('POST', url, headers, body, false), MAX_API_ANSWER)
    },
    async getStream(url, headers) {
      const target = new URL(url)
      if (options.files) checkFileUrl(target, FIRST_HOP)
      if (
        options.direct !== false &&
        (target.protocol === 'http:' || target.protocol === 'https:') &&
        !indirect.has(target.origin) &&
        // The same proxy rules as the client's (HTTPS_PROXY, HTTP_PROXY, NO_PROXY): a request
        // that would go through a proxy goes through the client.
        !getProxyUrl(target.href)
      ) {
        const answer = await directGet(target, headers, {
          timeoutMs: options.socketTimeoutMs,
          userAgent: USER_AGENT,
          scope,
          lookup: firstLookup,
          pool: kept
        }).catch((error: unknown) => {
          throw unsentError(error, target)
        })
        if (answer) return guarded(answer, target)
        indirect.add(target.origin)
      }
      const message = await send('GET', url, headers, null, true)
      const { statusCode: status = 0, headers: head } = message
      return guarded({ status, headers: head, body: streamBody(message) }, target)
    },
    dispose: () => {
      clients.dispose()
      kept.dispose()
      fanout?.dispose()
    }
  }
}

const stageOf = (status: number): string =>
  status >= 400 ? `in the middle of its HTTP ${status} answer` : 'in the middle of the body'

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
