import { isIP, connect as connectTcp, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions } from 'node:tls'
import type { Lookup } from './address.js'
import type { StreamResponse } from './body.js'
import type { Scope } from './deadline.js'
import { DirectBody, ErrorBody, parseHead } from './direct-answer.js'
import { Connection, type DirectPool, type Handler } from './direct-pool.js'

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
 */

/** The most header bytes read before the answer counts as one this reader does not take. */
const MAX_HEAD = 64 * 1024
const BUFFER = 1024 * 1024

export interface DirectOptions {
  /** No answer (or no byte of the head) for this long: the request fails. */
  timeoutMs: number
  userAgent: string
  /** Where finished connections wait for the next request; none: one connection per request. */
  pool?: DirectPool
  /** The run's signal: destroys the socket when it aborts, head or body. */
  scope?: Scope
  /** Resolves the host (node's default: dns.lookup); a checked one refuses some addresses. */
  lookup?: Lookup | undefined
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
  const key = `${url.protocol}//${url.host}`
  const kept = options.pool?.take(key)
  if (kept) {
    try {
      return await request(kept, url, headers, options)
    } catch (error) {
      if (!(error instanceof StaleConnection)) throw error
    }
  }
  return request(open(url, key, options.lookup), url, headers, options)
}

function open(url: URL, key: string, lookup: Lookup | undefined): Connection {
  const buffer = Buffer.allocUnsafe(BUFFER)
  const onread = { buffer, callback: (bytes: number) => connection.handler.read(bytes) }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const socket: Socket =
    url.protocol === 'https:'
      ? // `onread` is honoured when tls.connect opens the socket itself; @types/node omits it.
        connectTls({
          host,
          port,
          onread,
          ...(lookup ? { lookup } : {}),
          ...(isIP(host) ? {} : { servername: host })
        } as ConnectionOptions)
      : connectTcp({ host, port, onread, ...(lookup ? { lookup } : {}) })
  const connection = new Connection(socket, buffer, key, url.host)
  return connection
}

function request(
  connection: Connection,
  url: URL,
  headers: Record<string, string>,
  options: DirectOptions
): Promise<StreamResponse | undefined> {
  const { socket, buffer } = connection
  const reused = connection.requests++ > 0
  const { signal, dispose } = options.scope?.() ?? {}
  if (signal?.aborted) {
    dispose?.()
    if (!reused) socket.destroy()
    else options.pool?.put(connection)
    return Promise.reject(signal.reason as Error)
  }
  // The run's signal holds this request only: a kept connection is the next request's.
  const onAbort = (): void => {
    socket.destroy(signal?.reason as Error)
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    signal?.removeEventListener('abort', onAbort)
    dispose?.()
  }
  return new Promise((resolve, reject) => {
    let head: Buffer | undefined = Buffer.alloc(0)
    let body: DirectBody | ErrorBody | undefined
    const unsupported = (): void => {
      socket.destroy()
      resolve(undefined)
    }
    // A kept connection the host closed (or reset) before any byte of an answer: not a failure.
    const early = (error: Error): Error =>
      reused &&
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
        // A file body has the sink's stall timer; an error body, read to the close, keeps this one.
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
        else reject(early(error))
      },
      close: () => {
        release()
        if (body) body.closed()
        else reject(early(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })))
      }
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
