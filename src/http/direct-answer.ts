import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { Body } from './body.js'

/**
 * How direct-get.ts reads an answer's head, a body of announced length, and an error body of no
 * announced length.
 */

/** The most of an error body kept: enough for any S3 explanation. */
const MAX_ERROR = 64 * 1024

export interface Head {
  status: number
  headers: IncomingHttpHeaders
  /** Undefined for an error body framed otherwise (read to the close). */
  length: number | undefined
  chunked: boolean
}

/**
 * The status line and headers, when they describe a body this reader can take. Header names are
 * lower-cased and repeats joined with `, `, as node:http presents them.
 */
export function parseHead(text: string): Head | undefined {
  const [statusLine = '', ...fields] = text.split('\r\n')
  const status = /^HTTP\/1\.[01] ([2-5]\d\d)(?: |$)/.exec(statusLine)
  if (!status) return undefined
  const headers: IncomingHttpHeaders = {}
  for (const field of fields) {
    const colon = field.indexOf(':')
    // A folded line or a field without a name: not an answer to take on trust.
    if (colon <= 0 || /^[ \t]/.test(field)) return undefined
    const name = field.slice(0, colon).trim().toLowerCase()
    const value = field.slice(colon + 1).trim()
    const before = headers[name]
    headers[name] =
      name === 'set-cookie'
        ? [...(Array.isArray(before) ? before : []), value]
        : typeof before === 'string'
          ? `${before}, ${value}`
          : value
  }
  const code = Number(status[1])
  const length = headers['content-length']
  const encoding = headers['transfer-encoding']
  const simple = encoding === undefined && typeof length === 'string' && /^\d{1,15}$/.test(length)
  if (code >= 300 && code < 400) return undefined
  if (simple) return { status: code, headers, length: Number(length), chunked: false }
  if (code < 400) return undefined
  const chunked = typeof encoding === 'string' && /^chunked$/i.test(encoding.trim())
  if (encoding !== undefined && !chunked) return undefined
  return { status: code, headers, length: undefined, chunked }
}

/**
 * An error answer's body without a length: read to the close the request asked for (at most
 * MAX_ERROR bytes), de-chunked, and handed over in one piece.
 */
export class ErrorBody implements Body {
  private raw: Buffer
  private waiting: { onChunk: (chunk: Buffer) => boolean; resolve: () => void } | undefined
  private done = false

  constructor(
    private readonly socket: Socket,
    private readonly chunked: boolean,
    first: Buffer
  ) {
    this.raw = first
  }

  read(onChunk: (chunk: Buffer) => boolean): Promise<void> {
    return new Promise<void>(resolve => {
      this.waiting = { onChunk, resolve }
      if (this.complete()) this.closed()
      if (this.done) this.deliver()
      else this.socket.resume()
    })
  }

  /** A chunked body's last chunk is in: a host that keeps the connection open is not waited for. */
  private complete(): boolean {
    return this.chunked && this.raw.subarray(-7).toString('latin1') === '\r\n0\r\n\r\n'
  }

  push(chunk: Buffer): boolean {
    this.raw = Buffer.concat([this.raw, chunk.subarray(0, MAX_ERROR - this.raw.length)])
    if (this.raw.length < MAX_ERROR && !this.complete()) return true
    this.closed()
    return false
  }

  fail(): void {
    this.closed()
  }

  closed(): void {
    if (this.done) return
    this.done = true
    this.socket.destroy()
    if (this.waiting) this.deliver()
  }

  destroy(): void {
    this.closed()
  }

  private deliver(): void {
    const waiting = this.waiting
    this.waiting = undefined
    if (!waiting) return
    const text = this.chunked ? dechunk(this.raw) : this.raw
    if (text.length > 0) waiting.onChunk(text)
    waiting.resolve()
  }
}

/** The data of a chunked body, as far as it is well formed. */
function dechunk(raw: Buffer): Buffer {
  const pieces: Buffer[] = []
  for (let at = 0; at < raw.length;) {
    const eol = raw.indexOf('\r\n', at)
    const size = eol < 0 ? NaN : parseInt(raw.subarray(at, eol).toString('latin1'), 16)
    if (!(size > 0)) break
    pieces.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
  return Buffer.concat(pieces)
}

/**
 * The body after the head: `length` bytes, of which `first` came with the head. Chunks go to the
 * reader straight from the socket's buffer, valid only during the call. `end` says whether the
 * body was read to its last byte (the connection may then serve another request) or not.
 */
export class DirectBody implements Body {
  private left: number
  private onChunk: ((chunk: Buffer) => boolean) | undefined
  private settle: { resolve: () => void; reject: (error: Error) => void } | undefined
  private failure: Error | undefined
  private ended = false

  constructor(
    private readonly socket: Socket,
    length: number,
    private first: Buffer,
    private readonly end: (complete: boolean) => void
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
      if (this.left === 0) return this.finish(undefined, true)
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
      this.finish(undefined, piece.length === chunk.length)
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

  /** After the end the socket is no longer this body's: it may serve another request. */
  destroy(reason?: Error): void {
    if (this.ended) return
    if (reason) this.fail(reason)
    else this.finish()
    this.socket.destroy()
  }

  /** `exact`: nothing came after the body's last byte, so the connection is in a known state. */
  private finish(error?: Error, exact = false): void {
    if (this.ended) return
    this.ended = true
    this.end(error === undefined && this.left === 0 && exact)
    if (error) this.settle?.reject(error)
    else this.settle?.resolve()
  }
}
