import type { Lookup } from './address.js'
import type { StreamResponse } from './body.js'
import { stallError, type Scope } from './deadline.js'
import { DirectBody, ErrorBody, parseHead } from './direct-answer.js'
import {
  openConnection,
  originKey,
  type Connection,
  type DirectPool,
  type Handler
} from './direct-pool.js'

export { DirectPool } from './direct-pool.js'

/**
 * A GET on a socket of the action's own that reads into one reused buffer (`onread`), for file
 * bodies: node:http hands every chunk over in a fresh 64 KiB Buffer after a round through its
 * parser, which made a plain download 1.4–1.6× curl here; the same loop on `onread` took 0.5× curl
 * on HTTP and 1.05× on HTTPS (1 GiB from 127.0.0.1, medians of 5). Only the simplest answer is
 * read here: `HTTP/1.1`, a status with a `Content-Length` body and no `Transfer-Encoding`. An
 * error status is read here whatever its framing, for its explanation: asking again would cost the
 * host's patience and a retry. Anything else (a redirect, a chunked or close-delimited file body,
 * an informational answer) is `undefined`, and the caller asks again through @actions/http-client.
 *
 * With a `pool`, a connection whose body was read to its end is kept for the next request to the
 * same origin (the ranged parts of a file): over HTTPS that spares a handshake, and on any link
 * the TCP ramp-up. A kept connection that turns out closed before any answer is replaced once.
 * The run's signal is held by a request, not by its connection: a kept connection outlives it.
 */

/** The most header bytes read before the answer counts as one this reader does not take. */
const MAX_HEAD = 64 * 1024

export interface DirectOptions {
  /** No byte of the answer's head for this long: the socket is destroyed, the request fails. */
  timeoutMs: number
  userAgent: string
  /** The run's signal: destroys the socket when it aborts, head or body. */
  scope?: Scope
  /**
   * Resolves the host when a connection is opened (node's default: dns.lookup); a checked one
   * refuses some addresses. A kept connection was checked when it was opened.
   */
  lookup?: Lookup | undefined
  /** Where finished connections wait for the next request; none: one connection per request. */
  pool?: DirectPool
}

/** A kept connection closed before it answered: asked again on a new one. */
class StaleConnection extends Error {}

/** `undefined` when the answer is not one this reader takes (see above): ask elsewhere. */
export async function directGet(
  url: URL,
  headers: Record<string, string>,
  options: DirectOptions
): Promise<StreamResponse | undefined> {
  const bad = Object.entries(headers).find(
    ([name, value]) => /[\r\n\0:]/.test(name) || /[\r\n\0]/.test(value)
  )
  if (bad) throw new Error(`invalid header ${JSON.stringify(bad[0])}`)
  const kept = options.pool?.take(originKey(url))
  if (kept) {
    try {
      return await request(kept, url, headers, options)
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error
    }
  }
  return request(undefined, url, headers, options)
}

/** One request on `kept`, or on a new connection (checked by `lookup` as it opens). */
function request(
  kept: Connection | undefined,
  url: URL,
  headers: Record<string, string>,
  options: DirectOptions
): Promise<StreamResponse | undefined> {
  const { signal, dispose = () => undefined } = options.scope?.() ?? {}
  if (signal?.aborted) {
    dispose()
    kept?.socket.destroy()
    return Promise.reject(signal.reason as Error)
  }
  const connection = kept ?? openConnection(url, options.lookup)
  const { socket, buffer } = connection
  const reused = connection.requests++ > 0
  const onAbort = (): void => {
    socket.destroy(signal?.reason as Error)
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  // Once this request's answer is done or failed: the connection may wait idle in the pool.
  let held = true
  const release = (): void => {
    if (!held) return
    held = false
    signal?.removeEventListener('abort', onAbort)
    dispose()
  }
  return new Promise((resolve, reject) => {
    let head: Buffer | undefined = Buffer.alloc(0)
    let body: DirectBody | ErrorBody | undefined
    const fail = (error: Error): void => {
      release()
      reject(error)
    }
    const unsupported = (): void => {
      socket.destroy()
      release()
      resolve(undefined)
    }
    // A kept connection the host closed (or reset) before any byte of an answer: not a failure.
    const early = (error: Error): Error =>
      reused &&
      !signal?.aborted &&
      head?.length === 0 &&
      /^(ECONNRESET|EPIPE)$/.test((error as NodeJS.ErrnoException).code ?? '')
        ? new StaleConnection(error.message)
        : error
    const handler: Handler = {
      read: (bytes: number): boolean => {
        const chunk = buffer.subarray(0, bytes)
        if (body) return body.push(chunk)
        // Mostly the whole head comes in the first read, with up to a MiB of body: no copy of it.
        head = head?.length ? Buffer.concat([head, chunk]) : chunk
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) {
          // A copy: the buffer is about to be reused.
          head = Buffer.from(head)
          if (head.length > MAX_HEAD) unsupported()
          return true
        }
        const parsed = parseHead(head.subarray(0, end).toString('latin1'))
        const rest = Buffer.from(head.subarray(end + 4))
        head = undefined
        if (!parsed) {
          unsupported()
          return false
        }
        // A file body is under the caller's deadline (transport.ts guards every body); an error
        // body, read to the close, keeps this one too.
        if (parsed.length !== undefined) socket.setTimeout(0)
        const keep =
          options.pool !== undefined && !/\bclose\b/i.test(parsed.headers.connection ?? '')
        body =
          parsed.length !== undefined
            ? new DirectBody(socket, parsed.length, rest, complete => {
                release()
                if (complete && keep) options.pool?.put(connection)
                else socket.destroy()
              })
            : new ErrorBody(socket, parsed.chunked, rest)
        resolve({ status: parsed.status, headers: parsed.headers, body })
        // Paused until the caller reads: the next chunk would overwrite the one buffer.
        return false
      },
      error: error => {
        if (body) body.fail(error)
        else fail(early(error))
      },
      close: () => {
        if (body) body.closed()
        else fail(early(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })))
        release()
      },
      timeout: () => socket.destroy(stallError(url.host, 'before its answer', options.timeoutMs))
    }
    connection.serve(handler, options.timeoutMs)
    const lines = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      `User-Agent: ${options.userAgent}`,
      ...(options.pool ? [] : ['Connection: close']),
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
    ]
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  })
}
