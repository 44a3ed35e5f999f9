/**
 * createHttp's guards on loopback servers, on both transports: where a file request may go is
 * checked on the resolved address through an injected lookup (recorded; it never connects), a
 * stalled error body is cut at the deadline with its socket destroyed, and an API answer over the
 * limit is its own error. This process runs under sim/loopback-only.js as well: a connection
 * that would leave loopback is refused and recorded, whatever the code under test does.
 */
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RefusedHostError, type Lookup } from '../../../src/http/address.js'
import { AnswerTooLargeError } from '../../../src/http/deadline.js'
import { MAX_API_ANSWER, createHttp, readLimited } from '../../../src/http/transport.js'
import { installLoopbackOnly, type NetRecordEntry } from '../../../sim/loopback-only.js'
import { isTransient } from '../../../src/support/errors.js'

const HOSTS: Record<string, string> = {
  'metadata.test': '169.254.169.254',
  'internal.test': '10.0.0.5',
  'files.test': '127.0.0.1'
}

let server: http.Server
let origin = ''
const closed: string[] = []
const guardLog: NetRecordEntry[] = []
let uninstall: () => void = () => undefined

beforeAll(async () => {
  uninstall = installLoopbackOnly({ record: entry => guardLog.push(entry) })
  server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    req.socket.once('close', () => closed.push(url))
    if (url.startsWith('/redirect?')) {
      res.writeHead(302, { Location: new URL(url, 'http://x').searchParams.get('to') ?? '/' })
      res.end()
    } else if (url === '/stalled-503') {
      res.writeHead(503, { 'Content-Length': 200 })
      res.write('<Error>')
    } else if (url === '/huge') {
      const chunk = Buffer.alloc(1024 * 1024, 'x')
      res.writeHead(200, { 'Content-Type': 'application/json' })
      let sent = 0
      const more = (): void => {
        while (sent < MAX_API_ANSWER + 2 * chunk.length) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', more)
        }
        res.end()
      }
      more()
    } else {
      res.writeHead(200, { 'Content-Length': 2 })
      res.end('ok')
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  uninstall()
  server.closeAllConnections()
  await new Promise(resolve => server.close(resolve))
  // Nothing, in any test here, tried to leave loopback.
  expect(guardLog.filter(entry => entry.refusedConnect !== undefined)).toEqual([])
})

/** A lookup from HOSTS that records every name it is asked for. */
function recording(): { lookup: Lookup; asked: string[] } {
  const asked: string[] = []
  const lookup = ((
    hostname: string,
    options: { all?: boolean },
    callback: (...args: unknown[]) => void
  ) => {
    asked.push(hostname)
    const address = HOSTS[hostname]
    if (!address)
      return callback(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }))
    if (options.all) callback(null, [{ address, family: 4 }])
    else callback(null, address, 4)
  }) as unknown as Lookup
  return { lookup, asked }
}

describe.each([true, false])('file requests, direct: %s', direct => {
  it.each([
    ['metadata.test', /metadata\.test resolves to 169\.254\.169\.254, a link-local address/],
    ['internal.test', /internal\.test resolves to 10\.0\.0\.5, a private network address/]
  ])('a redirect to %s: looked up, refused, never connected', async (host, why) => {
    const { lookup, asked } = recording()
    const client = createHttp({ socketTimeoutMs: 2000, direct, files: { lookup } })
    try {
      const to = encodeURIComponent(`https://${host}/latest/a.csv?X-Amz-Signature=s3cr3t`)
      const error = await client
        .getStream(`${origin}/redirect?to=${to}`, {})
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RefusedHostError)
      expect((error as Error).message).toMatch(why)
      expect((error as Error).message).not.toContain('s3cr3t')
      expect(asked).toEqual([host])
    } finally {
      client.dispose()
    }
  })

  it('a plain-http URL of another host: refused before any lookup', async () => {
    const { lookup, asked } = recording()
    const client = createHttp({ socketTimeoutMs: 2000, direct, files: { lookup } })
    try {
      await expect(client.getStream('http://files.test/a.csv', {})).rejects.toThrow(
        /over http: refused/
      )
      expect(asked).toEqual([])
    } finally {
      client.dispose()
    }
  })

  it('a stalled error body: cut at the deadline, transient, its socket destroyed', async () => {
    const client = createHttp({ socketTimeoutMs: 300, direct, files: {} })
    try {
      const res = await client.getStream(`${origin}/stalled-503`, {})
      expect(res.status).toBe(503)
      const error = await readLimited(res.body, 16 * 1024).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(
        /^127\.0\.0\.1:\d+ sent nothing for 300ms in the middle of its HTTP 503 answer$/
      )
      expect(isTransient(error)).toBe(true)
      await expect.poll(() => closed).toContain('/stalled-503')
    } finally {
      closed.length = 0
      client.dispose()
    }
  })
})

describe('API answers', () => {
  it('over 16 MiB: their own error, not read to the end and not a retried parse error', async () => {
    const client = createHttp({ socketTimeoutMs: 5000, direct: false })
    try {
      const error = await client.getText(`${origin}/huge`, {}).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AnswerTooLargeError)
      expect((error as Error).message).toMatch(
        /^127\.0\.0\.1:\d+\/…\/huge answered HTTP 200 with more than 16\.0 MiB, the most an API answer may be/
      )
      expect(isTransient(error)).toBe(false)
    } finally {
      client.dispose()
    }
  })

  it('a stalled error body from the API: cut at the deadline, transient, naming the host', async () => {
    const client = createHttp({ socketTimeoutMs: 300, direct: false })
    try {
      const error = await client.getText(`${origin}/stalled-503`, {}).catch((e: unknown) => e)
      expect((error as Error).message).toMatch(
        /127\.0\.0\.1:\d+ sent nothing for 300ms in the middle of its HTTP 503 answer/
      )
      expect(isTransient(error)).toBe(true)
    } finally {
      client.dispose()
    }
  })
})
