import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { parseHead } from '../../../src/http/direct-answer.js'
import { directGet } from '../../../src/http/direct-get.js'
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
