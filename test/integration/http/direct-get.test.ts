import { getEventListeners } from 'node:events'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { Lookup } from '../../../src/http/address.js'
import type { Scope } from '../../../src/http/deadline.js'
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

/**
 * A raw TCP host that answers the first request on each connection with `hello` and is silent
 * after that, connection open. Its sockets do not keep this process alive (so that what does can
 * be counted). Counts connections and what the host saw close.
 */
async function answersOnce(): Promise<{
  url: URL
  connections: () => number
  closed: () => number
}> {
  const sockets: net.Socket[] = []
  let closed = 0
  const server = net.createServer(socket => {
    sockets.push(socket)
    socket.unref()
    socket.once('close', () => closed++)
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'))
  })
  server.on('close', () => sockets.forEach(socket => socket.destroy()))
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/f.csv`)
  return { url, connections: () => sockets.length, closed: () => closed }
}

describe('directGet: a kept connection under the run signal, the deadline and the address check', () => {
  /** The run's signal, counting the scopes taken and not yet disposed. */
  const runScope = (): { controller: AbortController; scope: Scope; held: () => number } => {
    const controller = new AbortController()
    let held = 0
    const scope: Scope = () => {
      held++
      const dispose = (): void => {
        held--
      }
      return { signal: controller.signal, dispose }
    }
    return { controller, scope, held: () => held }
  }
  const sockets = (): number =>
    process.getActiveResourcesInfo().filter(kind => kind === 'TCPSocketWrap').length
  /** The count once it has held still for five looks in a row (earlier tests' sockets closing). */
  const settledSockets = async (): Promise<number> => {
    let count = sockets()
    for (let still = 0, looks = 0; still < 5 && looks < 200; looks++) {
      await new Promise(resolve => setTimeout(resolve, 10))
      const now = sockets()
      still = now === count ? still + 1 : 0
      count = now
    }
    return count
  }

  it('holds no abort listener and no scope while idle, and keeps no process alive', async () => {
    const host = await answersOnce()
    const run = runScope()
    const pool = new DirectPool()
    try {
      // The sockets of earlier tests closed, so that only this one's are counted.
      const before = await settledSockets()
      const res = await directGet(host.url, {}, { timeoutMs: 5000, userAgent: 't', pool, ...run })
      expect(getEventListeners(run.controller.signal, 'abort')).toHaveLength(1)
      expect(sockets()).toBe(before + 1)
      if (!res) throw new Error('not taken')
      expect(await readLimited(res.body, 100)).toBe('hello')
      expect(getEventListeners(run.controller.signal, 'abort')).toHaveLength(0)
      expect(run.held()).toBe(0)
      expect(sockets()).toBe(before)
      // Aborting the run now touches nothing: the kept connection is not the request's.
      run.controller.abort(new Error('cancelled'))
      await new Promise(resolve => setTimeout(resolve, 20))
      expect(host.closed()).toBe(0)
    } finally {
      pool.dispose()
    }
  })

  it('destroys a kept connection when the run aborts during its next request', async () => {
    const host = await answersOnce()
    const run = runScope()
    const pool = new DirectPool()
    try {
      const first = await directGet(host.url, {}, { timeoutMs: 5000, userAgent: 't', pool, ...run })
      await first?.body.read(() => true)
      const second = directGet(host.url, {}, { timeoutMs: 5000, userAgent: 't', pool, ...run })
      setTimeout(() => run.controller.abort(new Error('cancelled')), 50)
      await expect(second).rejects.toThrow('cancelled')
      expect(host.connections()).toBe(1)
      await expect.poll(() => host.closed()).toBe(1)
      expect(getEventListeners(run.controller.signal, 'abort')).toHaveLength(0)
      expect(run.held()).toBe(0)
    } finally {
      pool.dispose()
    }
  })

  it('gives up on a kept connection that sends no answer, naming the host, and does not ask again', async () => {
    const host = await answersOnce()
    const pool = new DirectPool()
    try {
      const first = await directGet(host.url, {}, { timeoutMs: 200, userAgent: 't', pool })
      await first?.body.read(() => true)
      await expect(
        directGet(host.url, {}, { timeoutMs: 200, userAgent: 't', pool })
      ).rejects.toThrow(/^127\.0\.0\.1:\d+ sent nothing for 200ms before its answer$/)
      expect(host.connections()).toBe(1)
    } finally {
      pool.dispose()
    }
  })

  it('resolves the host when a connection opens, not again for a kept one', async () => {
    const host = await keepAliveHost(3)
    const looked: string[] = []
    const lookup = ((hostname, options, callback) => {
      looked.push(hostname)
      if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }])
      else callback(null, '127.0.0.1', 4)
    }) as Lookup
    const url = new URL(host.url.href.replace('127.0.0.1', 'files.test'))
    const pool = new DirectPool()
    try {
      for (let i = 0; i < 3; i++) {
        const res = await directGet(url, {}, { timeoutMs: 5000, userAgent: 't', pool, lookup })
        expect(res && (await readLimited(res.body, 100))).toBe('hello')
      }
      expect(looked).toEqual(['files.test'])
      expect(host.connections()).toBe(1)
    } finally {
      pool.dispose()
    }
  })
})
