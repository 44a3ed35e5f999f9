import { isIP, connect as connectTcp, type Socket } from 'node:net'
import { connect as connectTls, type ConnectionOptions } from 'node:tls'
import type { Lookup } from './address.js'

/** What a connection does with its socket's events, for the request it serves (or while idle). */
export interface Handler {
  /** `bytes` new bytes at the start of the connection's buffer; false pauses the socket. */
  read(bytes: number): boolean
  error(error: Error): void
  close(): void
  /** No byte for the timeout `serve` set. */
  timeout(): void
}

const BUFFER = 1024 * 1024

/** Kept connections wait this long at most: below the usual keep-alive timeouts of hosts (5 s+). */
const IDLE_MS = 2000
/** At most this many kept connections per origin. */
const MAX_IDLE = 16

/**
 * One socket of the direct reader (direct-get.ts) and the buffer it reads into, serving one
 * request after another. Its events go to the handler of the request in progress.
 */
export class Connection {
  requests = 0
  handler: Handler

  constructor(
    readonly socket: Socket,
    readonly buffer: Buffer,
    readonly key: string
  ) {
    this.handler = closedHandler(socket)
    socket.on('error', error => this.handler.error(error))
    socket.once('close', () => this.handler.close())
    socket.on('timeout', () => this.handler.timeout())
  }

  /** The next request's handler; the socket reads again, with `timeoutMs` until the head. */
  serve(handler: Handler, timeoutMs: number): void {
    this.handler = handler
    this.socket.setTimeout(timeoutMs)
    this.socket.ref()
    this.socket.resume()
  }
}

/** While idle, any byte from the host is out of turn: the connection is dropped. */
function closedHandler(socket: Socket): Handler {
  return {
    read: () => {
      socket.destroy()
      return false
    },
    error: () => socket.destroy(),
    close: () => undefined,
    timeout: () => socket.destroy()
  }
}

/** What a kept connection may serve: the same scheme, host and port. */
export const originKey = (url: URL): string => `${url.protocol}//${url.host}`

/**
 * A new connection to the URL's origin. `lookup` resolves the host (node's default: dns.lookup);
 * a checked one refuses some addresses before connecting.
 */
export function openConnection(url: URL, lookup: Lookup | undefined): Connection {
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
  const connection = new Connection(socket, buffer, originKey(url))
  return connection
}

/**
 * Connections whose last body was read to its end, by origin, for the next request there. An idle
 * connection does not keep the process alive, and leaves the pool when the host closes it or after
 * IDLE_MS.
 */
export class DirectPool {
  private readonly idle = new Map<string, Set<Connection>>()
  private readonly timers = new Map<Connection, NodeJS.Timeout>()

  take(key: string): Connection | undefined {
    const set = this.idle.get(key)
    const connection = set?.values().next().value
    if (!connection) return undefined
    this.remove(connection)
    return connection.socket.destroyed ? this.take(key) : connection
  }

  put(connection: Connection): void {
    const { socket, key } = connection
    let set = this.idle.get(key)
    if (!set) this.idle.set(key, (set = new Set()))
    if (set.size >= MAX_IDLE || socket.destroyed) {
      socket.destroy()
      return
    }
    set.add(connection)
    const handler = closedHandler(socket)
    connection.handler = { ...handler, close: () => this.remove(connection) }
    socket.setTimeout(0)
    socket.unref()
    const timer = setTimeout(() => {
      this.remove(connection)
      socket.destroy()
    }, IDLE_MS)
    timer.unref()
    this.timers.set(connection, timer)
    // Reading on, so that a host's close is seen; the body's last read paused the socket.
    setImmediate(() => {
      if (set.has(connection)) socket.resume()
    })
  }

  dispose(): void {
    for (const set of this.idle.values()) for (const connection of set) connection.socket.destroy()
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.idle.clear()
    this.timers.clear()
  }

  private remove(connection: Connection): void {
    this.idle.get(connection.key)?.delete(connection)
    clearTimeout(this.timers.get(connection))
    this.timers.delete(connection)
  }
}
