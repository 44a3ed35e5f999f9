import { open, readFile } from 'node:fs/promises'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DiskError, FatalError, TransientError } from '../../../src/support/errors.js'
import { directGet } from '../../../src/http/direct-get.js'
import { streamBody, type Body } from '../../../src/http/transport.js'
import { streamToFile, type Part, type SinkOptions } from '../../../src/transfer/sink.js'
import { useTempDir } from '../../helpers/tmp.js'

type Transport = 'direct' | 'node:http'

/**
 * A response body from a real local server that does what `serve` says with the response, read
 * the way each transport reads file bodies: the action's own socket reader, or node:http.
 */
async function bodyOf(
  transport: Transport,
  serve: (res: http.ServerResponse) => void
): Promise<{ message: Body; close: () => void }> {
  const server = http.createServer((_req, res) => serve(res))
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}/`
  const close = (): void => {
    server.closeAllConnections()
    server.close()
  }
  if (transport === 'direct') {
    const res = await directGet(new URL(url), {}, { timeoutMs: 5000, userAgent: 'test' })
    if (!res) throw new Error('the direct reader did not take the answer')
    return { message: res.body, close }
  }
  const message = await new Promise<http.IncomingMessage>(resolve => {
    // As @actions/http-client does: a destroyed body also fails its request.
    http.get(url, { agent: false }, resolve).on('error', () => undefined)
  })
  return { message: streamBody(message), close }
}

describe.each<Transport>(['direct', 'node:http'])('streamToFile over %s', transport => {
  const tmp = useTempDir('sink-')
  const body = (serve: (res: http.ServerResponse) => void) => bodyOf(transport, serve)
  /** A fresh file `f` in the temporary directory, opened for reading and writing. */
  const openFile = () => open(path.join(tmp.path, 'f'), 'w+')
  /** Sink options: a 5 s stall timeout, never aborted, nothing counted, unless `extra` says. */
  const options = (extra: Partial<SinkOptions> = {}): SinkOptions => ({
    stallTimeoutMs: 5000,
    signal: new AbortController().signal,
    onWritten: () => undefined,
    ...extra
  })

  it('fails transiently, keeping what arrived, when the connection is cut mid-body', async () => {
    const { message, close } = await body(res => {
      res.writeHead(200, { 'Content-Length': 100_000 })
      res.write(Buffer.alloc(30_000, 0x62), () => res.destroy())
    })
    const file = await openFile()
    const part: Part = { start: 0, end: 100_000, written: 0 }
    const attempt = streamToFile(message, file, part, options())
    await expect(attempt).rejects.toBeInstanceOf(TransientError)
    const error = (await attempt.then(
      () => undefined,
      (e: unknown) => e
    )) as Error
    const at = /^the connection broke after (\d+) of 100000 bytes/.exec(error.message)
    await file.close()
    close()
    // node:http drops what it buffered when the socket closes before the body is read from.
    expect(Number(at?.[1])).toBe(transport === 'direct' ? 30_000 : part.written)
    expect((await readFile(path.join(tmp.path, 'f'))).length).toBe(part.written)
  })

  it('fails for good, without counting, when the disk refuses a write', async () => {
    const { message, close } = await body(res => res.end(Buffer.alloc(100_000, 0x61)))
    await (await open(path.join(tmp.path, 'ro'), 'w')).close()
    // Opened read-only: every write fails (EBADF), as a full disk would (ENOSPC).
    const file = await open(path.join(tmp.path, 'ro'), 'r')
    const part: Part = { start: 0, end: Number.MAX_SAFE_INTEGER, written: 0 }
    let counted = 0
    const outcome = streamToFile(
      message,
      file,
      part,
      options({ onChunk: chunk => (counted += chunk.length) })
    )
    await expect(outcome).rejects.toThrow(DiskError)
    await expect(outcome).rejects.toThrow(FatalError)
    await expect(outcome).rejects.toThrow(/^EBADF/)
    await file.close()
    close()
    expect(part.written).toBe(0)
    expect(counted).toBe(0)
  })

  it('passes on a failing callback as it is, not as a disk error', async () => {
    const { message, close } = await body(res => res.end(Buffer.alloc(100_000, 0x61)))
    const file = await openFile()
    const part: Part = { start: 0, end: Number.MAX_SAFE_INTEGER, written: 0 }
    const outcome = streamToFile(
      message,
      file,
      part,
      options({
        onChunk: () => {
          throw new TypeError('counter bug')
        }
      })
    )
    await expect(outcome).rejects.toThrow(new TypeError('counter bug'))
    await file.close()
    close()
  })

  it('writes the body at the part offset, feeding every chunk in order', async () => {
    const data = Buffer.from('0123456789'.repeat(50_000))
    const { message, close } = await body(res => res.end(data))
    const file = await openFile()
    await file.write(Buffer.from('HEAD'), 0, 4, 0)
    const part: Part = { start: 4, end: Number.MAX_SAFE_INTEGER, written: 0 }
    const seen: Buffer[] = []
    let written = 0
    await streamToFile(
      message,
      file,
      part,
      options({
        onWritten: n => (written += n),
        onChunk: chunk => seen.push(Buffer.from(chunk))
      })
    )
    await file.close()
    close()
    expect(part.written).toBe(data.length)
    expect(written).toBe(data.length)
    expect(Buffer.concat(seen).equals(data)).toBe(true)
    expect(
      (await readFile(path.join(tmp.path, 'f'))).equals(Buffer.concat([Buffer.from('HEAD'), data]))
    ).toBe(true)
  })

  it('stops at the end of the part when the body goes on', async () => {
    const data = Buffer.alloc(300_000, 7)
    const { message, close } = await body(res => res.end(data))
    const file = await openFile()
    const part: Part = { start: 0, end: 1000, written: 0 }
    await streamToFile(message, file, part, options())
    await file.close()
    close()
    expect(part.written).toBe(1000)
    expect((await readFile(path.join(tmp.path, 'f'))).length).toBe(1000)
  })

  it('turns a stall into a TransientError that names it', async () => {
    const { message, close } = await body(res => {
      res.writeHead(200, { 'Content-Length': 10 })
      res.write('abc')
    })
    const file = await openFile()
    const part: Part = { start: 0, end: 10, written: 0 }
    const attempt = streamToFile(message, file, part, options({ stallTimeoutMs: 100 }))
    await expect(attempt).rejects.toBeInstanceOf(TransientError)
    await expect(attempt).rejects.toThrow('no data for 100ms')
    await file.close()
    close()
    expect(part.written).toBe(3)
  })

  it('stops at once on abort, with the abort reason', async () => {
    const { message, close } = await body(res => {
      res.writeHead(200, { 'Content-Length': 10 })
      res.write('abc')
    })
    const file = await openFile()
    const controller = new AbortController()
    const attempt = streamToFile(
      message,
      file,
      { start: 0, end: 10, written: 0 },
      options({ stallTimeoutMs: 60_000, signal: controller.signal })
    )
    setTimeout(() => controller.abort(new Error('SIGTERM')), 50)
    await expect(attempt).rejects.toThrow('SIGTERM')
    await file.close()
    close()
  })
})

describe('streamToFile with small chunks (TLS records are 16 KiB)', () => {
  const tmp = useTempDir('sink-gather-')
  const KiB = 1024

  /**
   * A body that hands over `bursts` of 16 KiB chunks, each burst in one turn of the event loop
   * (as TLS records decrypted from one socket read), calling `between` after each burst.
   */
  function scripted(bursts: number[], between: (burst: number) => Promise<void>) {
    let destroyed: Error | undefined
    const body: Body = {
      async read(onChunk) {
        let value = 0
        for (const [burst, chunks] of bursts.entries()) {
          for (let i = 0; i < chunks; i++) {
            if (destroyed) throw destroyed
            if (!onChunk(Buffer.alloc(16 * KiB, value++ % 251))) return
          }
          await between(burst)
        }
      },
      destroy: reason => (destroyed = reason ?? new Error('destroyed'))
    }
    return body
  }
  const expected = (chunks: number) =>
    Buffer.concat(Array.from({ length: chunks }, (_, i) => Buffer.alloc(16 * KiB, i % 251)))

  it('writes and passes them on gathered, in order, and all of them by the end', async () => {
    const file = await open(path.join(tmp.path, 'f'), 'w+')
    const part: Part = { start: 0, end: Number.MAX_SAFE_INTEGER, written: 0 }
    const seen: Buffer[] = []
    const body = scripted([64, 3], () => new Promise(resolve => setImmediate(resolve)))
    await streamToFile(body, file, part, {
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
      onWritten: () => undefined,
      onChunk: chunk => seen.push(Buffer.from(chunk))
    })
    await file.close()
    const data = expected(67)
    expect(part.written).toBe(data.length)
    expect(Buffer.concat(seen).equals(data)).toBe(true)
    // 67 chunks of 16 KiB went on in a handful of writes, not one each.
    expect(seen.length).toBeLessThanOrEqual(8)
    expect((await readFile(path.join(tmp.path, 'f'))).equals(data)).toBe(true)
  })

  it('does not hold a burst back until more arrives: it is on disk once the turn ends', async () => {
    const file = await open(path.join(tmp.path, 'f'), 'w+')
    const part: Part = { start: 0, end: Number.MAX_SAFE_INTEGER, written: 0 }
    const onDisk: number[] = []
    const body = scripted([3, 1], async () => {
      // The body is idle: the next chunk comes much later.
      await new Promise(resolve => setTimeout(resolve, 20))
      onDisk.push(part.written)
    })
    await streamToFile(body, file, part, {
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
      onWritten: () => undefined
    })
    await file.close()
    expect(onDisk).toEqual([48 * KiB, 64 * KiB])
  })

  it('keeps what arrived whole when the connection breaks with chunks still gathered', async () => {
    const file = await open(path.join(tmp.path, 'f'), 'w+')
    const part: Part = { start: 0, end: Number.MAX_SAFE_INTEGER, written: 0 }
    const body = scripted([5], () => Promise.reject(new Error('ECONNRESET')))
    const error = await streamToFile(body, file, part, {
      stallTimeoutMs: 5000,
      signal: new AbortController().signal,
      onWritten: () => undefined
    }).catch((e: unknown) => e)
    await file.close()
    expect(error).toBeInstanceOf(TransientError)
    expect(part.written).toBe(80 * KiB)
    expect((await readFile(path.join(tmp.path, 'f'))).equals(expected(5))).toBe(true)
  })
})
