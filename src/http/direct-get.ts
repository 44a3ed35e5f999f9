import { isIP, connect as connectTcp, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions } from 'node:tls'
import type { Lookup } from './address.js'
import type { Body, StreamResponse } from './body.js'
import { stallError, type Scope } from './deadline.js'
import { ErrorBody, parseHead } from './direct-answer.js'

/**
 * A GET on a socket of its own that reads into one reused buffer (`onread`), for file bodies:
 * node:http hands every chunk over in a fresh 64 KiB Buffer after a round through its parser,
 * which made a plain download 1.4–1.6× curl here; the same loop on `onread` took 0.5× curl on
 * HTTP and 1.05× on HTTPS (1 GiB from 127.0.0.1, medians of 5, issue 13). Only the simplest answer
 * is read here: `HTTP/1.1`, a status with a `Content-Length` body and no `Transfer-Encoding`.
 * An error status is read here whatever its framing, for its explanation: asking again would
 * cost the host's patience and a retry. Anything else (a redirect, a chunked or close-delimited
 * file body, an informational answer) is `undefined`, and the caller asks again through
 * @actions/http-client.
 */

/** The most header bytes read before the answer counts as one this reader does not take. */
const MAX_HEAD = 64 * 1024
const BUFFER = 1024 * 1024

export interface DirectOptions {
  /** No answer (or no byte of the head) for this long: the request fails. */
  timeoutMs: number
  userAgent: string
  /** The run's signal: destroys the socket when it aborts, head or body. */
  scope?: Scope
  /** Resolves the host (node's default: dns.lookup); a checked one refuses some addresses. */
  lookup?: Lookup | undefined
}

/** `undefined` when the answer is not one this reader takes (see above): ask elsewhere. */
export function directGet(
  url: URL,
  headers: Record<string, string>,
  options: DirectOptions
): Promise<StreamResponse | undefined> {
  const bad = Object.entries(headers).find(
    ([name, value]) => /[\r\n\0:]/.test(name) || /[\r\n\0]/.test(value)
  )
  if (bad) return Promise.reject(new Error(`invalid header ${JSON.stringify(bad[0])}`))
  const { lookup } = options
  const { signal, dispose } = options.scope?.() ?? {}
  if (signal?.aborted) {
    dispose?.()
    return Promise.reject(signal.reason as Error)
  }
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(BUFFER)
    let head: Buffer | undefined = Buffer.alloc(0)
    let body: DirectBody | ErrorBody | undefined
    const onread = {
      buffer,
      callback: (bytes: number): boolean => {
        const chunk = buffer.subarray(0, bytes)
        if (body) return body.push(chunk)
        head = Buffer.concat([head ?? Buffer.alloc(0), chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) {
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
        body =
          parsed.length !== undefined
            ? new DirectBody(socket, parsed.length, rest)
            : new ErrorBody(socket, parsed.chunked, rest)
        resolve({ status: parsed.status, headers: parsed.headers, body })
        // Paused until the caller reads: the next chunk would overwrite the one buffer.
        return false
      }
    }
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
    const onAbort = (): void => {
      socket.destroy(signal?.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('close', () => {
      signal?.removeEventListener('abort', onAbort)
      dispose?.()
    })
    const unsupported = (): void => {
      socket.destroy()
      resolve(undefined)
    }
    socket.setTimeout(options.timeoutMs, () => {
      socket.destroy(stallError(url.host, 'before its answer', options.timeoutMs))
    })
    socket.on('error', error => {
      if (body) body.fail(error)
      else reject(error)
    })
    socket.once('close', () => {
      if (body) body.closed()
      else reject(new Error('socket hang up'))
    })
    const lines = [
      `GET ${url.pathname}${url.search} HTTP/1.1`,
      `Host: ${url.host}`,
      `User-Agent: ${options.userAgent}`,
      'Connection: close',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
    ]
    socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
  })
}

/**
 * The body after the head: `length` bytes, of which `first` came with the head. Chunks go to the
 * reader straight from the socket's buffer, valid only during the call.
 */
class DirectBody implements Body {
  private left: number
  private onChunk: ((chunk: Buffer) => boolean) | undefined
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined
  private failure: Error | undefined
  private ended = false

  constructor(
    private readonly socket: Socket,
    length: number,
    private first: Buffer
  ) {
    this.left = length
  }

  read(onChunk: (chunk: Buffer) => boolean): Promise<void> {
    if (this.onChunk) return Promise.reject(new Error('the body is already being read'))
    return new Promise<void>((resolve, reject) => {
      this.onChunk = onChunk
      this.settle = { resolve, reject }
      if (this.failure) return this.finish(this.failure)
      const first = this.first
      this.first = Buffer.alloc(0)
      if (first.length > 0 && !this.push(first)) return
      if (this.left === 0) return this.finish()
      this.socket.resume()
    })
  }

  /** False once the reader needs no more (or the body is done): the socket then stays paused. */
  push(chunk: Buffer): boolean {
    if (!this.onChunk) {
      // Nothing is reading yet: keep it (a copy: the buffer is about to be reused).
      this.first = Buffer.concat([this.first, chunk])
      return false
    }
    if (this.ended) return false
    // Bytes past the announced length are not part of this body.
    const piece = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk
    this.left -= piece.length
    let more: boolean
    try {
      more = this.onChunk(piece)
    } catch (error) {
      this.finish(error instanceof Error ? error : new Error(String(error)))
      return false
    }
    if (!more || this.left === 0) {
      this.finish()
      return false
    }
    return true
  }

  fail(error: Error): void {
    this.failure ??= error
    if (this.settle) this.finish(error)
  }

  closed(): void {
    if (this.left > 0)
      this.fail(this.failure ?? new Error('socket hang up: the body was cut short'))
  }

  destroy(reason?: Error): void {
    if (reason) this.fail(reason)
    else if (!this.ended) this.finish()
    this.socket.destroy()
  }

  private finish(error?: Error): void {
    if (this.ended) return
    this.ended = true
    this.socket.destroy()
    if (error) this.settle?.reject(error)
    else this.settle?.resolve()
  }
}
