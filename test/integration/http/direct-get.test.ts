import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseHead } from '../../../src/http/direct-answer.js'
import { DirectPool, directGet } from '../../../src/http/direct-get.js'
import { readLimited } from '../../../src/http/transport.js'

let servers: net.Server[] = []
afterEach(() => {
  for (const server of servers) server.close()
  servers = []
})

/** A raw TCP host that answers every request with `answer` and never closes the connection. */
async function rawHost(answer: string): Promise<URL> {
  const sockets: net.Socket[] = []
  const server = net.createServer(socket => {
    sockets.push(socket)
    socket.once('data', () => socket.write(answer))
  })
  server.on('close', () => sockets.forEach(socket => socket.destroy()))
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f.csv`)
}

describe('parseHead', () => {
  it('takes a status with a Content-Length body, lower-casing and joining headers', () => {
    expect(
      parseHead('HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2')
    ).toEqual({
      status: 206,
      headers: { 'content-length': '5', 'x-a': '1, 2' },
      length: 5,
      chunked: false
    })
  })

  it.each([
    ['a redirect', 'HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0'],
    ['a chunked file body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked'],
    ['a file body ended by the close', 'HTTP/1.1 200 OK'],
    ['an informational answer', 'HTTP/1.1 100 Continue'],
    ['a folded header', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n folded'],
    ['not HTTP/1.x', 'HTTP/2 200\r\nContent-Length: 5']
  ])('leaves %s to @actions/http-client', (_what, head) => {
    expect(parseHead(head)).toBeUndefined()
  })

  it('reads an error answer whatever its framing, for its explanation', () => {
    expect(parseHead('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked')).toMatchObject({
      status: 403,
      length: undefined,
      chunked: true
    })
  })
})

describe('directGet', () => {
  it('reads a chunked error body to its last chunk, though the host keeps the connection open', async () => {
    const xml = '<Error><Code>AccessDenied</Code></Error>'
    const url = await rawHost(
      'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${xml.length.toString(16)}\r\n${xml}\r\n0\r\n\r\n`
    )
    const started = Date.now()
    const res = await directGet(url, {}, { timeoutMs: 10_000, userAgent: 'test' })
    if (!res) throw new Error('the direct reader did not take the error answer')
    expect(res.status).toBe(403)
    expect(await readLimited(res.body, 16 * 1024)).toBe(xml)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('gives up on a host that sends no answer, after the socket timeout', async () => {
    const url = await rawHost('')
    await expect(directGet(url, {}, { timeoutMs: 200, userAgent: 'test' })).rejects.toThrow(
      /127\.0\.0\.1:\d+ sent nothing for 200ms before its answer/
    )
  })

  it('refuses a header value that would split the request', async () => {
    const url = await rawHost('')
    await expect(
      directGet(url, { 'If-Range': '"a"\r\nX-Evil: 1' }, { timeoutMs: 200, userAgent: 'test' })
    ).rejects.toThrow(/invalid header "If-Range"/)
  })
})

/**
 * A raw TCP host that answers `answers` requests on each connection with a short body, then
 * closes that connection when the next request arrives on it, without a word (a host's keep-alive
 * timeout racing the request). Counts connections.
 */
async function keepAliveHost(
  answers: number,
  /** The body in two writes 20 ms apart, `hello` then `world`. */
  split = false
): Promise<{ url: URL; connections: () => number }> {
  const sockets: net.Socket[] = []
  const server = net.createServer(socket => {
    sockets.push(socket)
    let served = 0
    socket.on('data', () => {
      if (served++ >= answers) socket.destroy()
      else if (!split) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello')
      else {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')
        setTimeout(() => socket.write('world'), 20)
      }
    })
  })
  server.on('close', () => sockets.forEach(socket => socket.destroy()))
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f.csv`)
  return { url, connections: () => sockets.length }
}

describe('directGet with a pool of kept connections', () => {
  const read = async (url: URL, pool: DirectPool): Promise<string> => {
    const res = await directGet(url, {}, { timeoutMs: 5000, userAgent: 'test', pool })
    if (!res) throw new Error('not taken')
    return readLimited(res.body, 100)
  }

  it('sends the next request on the connection whose body was read to its end', async () => {
    const host = await keepAliveHost(3)
    const pool = new DirectPool()
    try {
      expect([
        await read(host.url, pool),
        await read(host.url, pool),
        await read(host.url, pool)
      ]).toEqual(['hello', 'hello', 'hello'])
      expect(host.connections()).toBe(1)
    } finally {
      pool.dispose()
    }
  })

  it('asks again on a new connection when the kept one was closed before it answered', async () => {
    const host = await keepAliveHost(1)
    const pool = new DirectPool()
    try {
      expect(await read(host.url, pool)).toBe('hello')
      expect(await read(host.url, pool)).toBe('hello')
      expect(host.connections()).toBe(2)
    } finally {
      pool.dispose()
    }
  })

  it('does not keep a connection whose body was not read to its end', async () => {
    const host = await keepAliveHost(3, true)
    const pool = new DirectPool()
    try {
      const res = await directGet(host.url, {}, { timeoutMs: 5000, userAgent: 'test', pool })
      await res?.body.read(() => false)
      expect(await read(host.url, pool)).toBe('helloworld')
      expect(host.connections()).toBe(2)
    } finally {
      pool.dispose()
    }
  })
})
