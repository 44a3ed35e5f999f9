import { createHash } from 'node:crypto'
import { mkdir, statfs, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { PlannedFile } from '../../../src/domain/model.js'
import { FatalError } from '../../../src/support/errors.js'
import { streamBody, type Http, type StreamResponse } from '../../../src/http/transport.js'
import type { SpaceCheck } from '../../../src/transfer/job.js'
import { downloadFiles } from '../../../src/transfer/pool.js'
import { MARGIN_BYTES, MARGIN_PER_FILE, freeBytesAt } from '../../../src/transfer/disk-space.js'
import { testHasher } from '../../helpers/hasher.js'
import { fakeClock } from '../../helpers/clock.js'
import { rejection } from '../../helpers/errors.js'
import { recordingLog } from '../../helpers/log.js'
import { useTempDir } from '../../helpers/tmp.js'

/**
 * The disk check before the first byte, through downloadFiles with a fake file host and a free
 * space the test decides (the disk port).
 */

const tmp = useTempDir('preflight-')

const body = (name: string, size: number): Buffer =>
  Buffer.from(name.repeat(Math.ceil(size / name.length)).slice(0, size))
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex')

/** A file host that serves these bodies, answers `refuse` with 403, and logs every request. */
function fileHost(files: Record<string, Buffer>, refuse: string[] = []) {
  const requests: string[] = []
  const http: Http = {
    getText: () => Promise.reject(new Error('no API here')),
    postText: () => Promise.reject(new Error('no API here')),
    getStream: (url, headers) => {
      const name = new URL(url).pathname.slice(1)
      const range = headers['Range']
      requests.push(range ? `${name} ${range}` : name)
      const data = files[name] ?? Buffer.alloc(0)
      const etag = `"${md5(data)}"`
      let res: Omit<StreamResponse, 'body'> & { data: Buffer }
      if (refuse.includes(name)) {
        res = {
          status: 403,
          headers: {},
          data: Buffer.from('<Error><Code>AccessDenied</Code></Error>')
        }
      } else if (range === 'bytes=0-0') {
        res = {
          status: 206,
          headers: { 'content-range': `bytes 0-0/${data.length}`, 'content-length': '1', etag },
          data: data.subarray(0, 1)
        }
      } else {
        res = { status: 200, headers: { 'content-length': String(data.length), etag }, data }
      }
      const stream = streamBody(Readable.from([res.data]))
      return Promise.resolve({ status: res.status, headers: res.headers, body: stream })
    }
  }
  return { http, requests }
}

/** Where run() downloads to: not made yet, unless a test put files there first. */
const outDir = (): string => path.join(tmp.path, 'out', 'data')

const planned = (names: string[]): PlannedFile[] =>
  names.map(name => ({
    url: `https://files.example/${name}?X-Amz-Signature=s`,
    name,
    format: undefined
  }))

function run(
  names: string[],
  host: ReturnType<typeof fileHost>,
  space: Partial<SpaceCheck> & { free: number | undefined },
  signal?: AbortSignal
) {
  const log = recordingLog()
  const dir = outDir()
  const statfsAt: string[] = []
  const done = downloadFiles(planned(names), {
    dir,
    concurrency: 2,
    http: host.http,
    clock: fakeClock(),
    policy: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
    stallTimeoutMs: 5000,
    log,
    signal: signal ?? new AbortController().signal,
    hasher: testHasher,
    space: {
      disk: {
        freeBytes: at => {
          statfsAt.push(at)
          return Promise.resolve(space.free)
        }
      },
      shard: space.shard,
      totalFiles: space.totalFiles ?? names.length
    }
  })
  return { done, log, dir, statfsAt }
}

/** Free space with exactly `spare` bytes left over for `files` files to download. */
const freeFor = (files: number, spare: number): number =>
  MARGIN_BYTES + MARGIN_PER_FILE * files + spare

describe('disk check before the first byte', () => {
  it('probes every file for its size, then downloads when the files fit', async () => {
    const host = fileHost({ a: body('a', 1000), b: body('b', 2000) })
    const r = run(['a', 'b'], host, { free: freeFor(2, 3000) })
    const files = await r.done
    expect(files.map(f => f.bytes)).toEqual([1000, 2000])
    expect(host.requests.slice(0, 2).sort()).toEqual(['a bytes=0-0', 'b bytes=0-0'])
    expect(host.requests.slice(2).sort()).toEqual(['a', 'b'])
    expect(r.statfsAt).toEqual([r.dir])
    expect(r.log.lines).toContain(
      `Disk space in ${r.dir}: 2 file(s) to download, 2.9 KiB (3,000 bytes); ${(freeFor(2, 3000) / 1024 / 1024).toFixed(1)} MiB (${freeFor(2, 3000).toLocaleString('en-US')} bytes) free`
    )
  })

  it('fails before any file body when they do not fit, with the sizes, the free space and a shard count', async () => {
    const host = fileHost({ a: body('a', 3000), b: body('b', 3000), c: body('c', 3000) })
    // 1,000 bytes short of the 9,000 the files need.
    const free = freeFor(3, 8000)
    const r = run(['a', 'b', 'c'], host, { free })
    const error = await rejection(r.done)
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toBe(
      `Not enough disk space for the download in ${r.dir} (its 3 file(s) still to download). ` +
        `They need 8.8 KiB (9,000 bytes) plus 1.0 MiB to spare; the file system has ` +
        `1.0 MiB (${free.toLocaleString('en-US')} bytes) free. Nothing was downloaded. To fix it, ` +
        `split it across matrix jobs: 'shard: K/N' with N = 2 or more, one job per K from 1 to N ` +
        `(docs/large-downloads.md), or set 'path' to a directory on a larger disk.`
    )
    expect(host.requests.every(request => request.endsWith('bytes=0-0'))).toBe(true)
    await expect(statfs(r.dir)).rejects.toThrow(/ENOENT/)
  })

  it('counts exactly: one byte more than is free fails, the exact fit passes', async () => {
    const files = { a: body('a', 5000) }
    await expect(run(['a'], fileHost(files), { free: freeFor(1, 4999) }).done).rejects.toThrow(
      /Not enough disk space/
    )
    const fits = await run(['a'], fileHost(files), { free: freeFor(1, 5000) }).done
    expect(fits[0]?.bytes).toBe(5000)
  })

  it('with shard, covers the shard and suggests more shards than it has', async () => {
    const host = fileHost({ a: body('a', 3000), b: body('b', 3000), c: body('c', 3000) })
    // 4,000 bytes free for 9,000 to fetch: 4 shards of this size are 9 that fit.
    const r = run(['a', 'b', 'c'], host, {
      free: freeFor(3, 4000),
      shard: { index: 2, count: 4 },
      totalFiles: 40
    })
    const error = await rejection(r.done)
    expect(error.message).toContain('(shard 2 of 4: its 3 file(s) still to download)')
    expect(error.message).toContain(
      "split it into more shards: 'shard: K/N' with N = 9 or more instead of 4"
    )
  })

  it('says no shard count helps when one file alone is larger than the free space', async () => {
    const host = fileHost({ a: body('a', 500), b: body('b', 6000) })
    const error = await rejection(run(['a', 'b'], host, { free: freeFor(2, 2000) }).done)
    expect(error.message).toMatch(
      /No shard count makes it fit \(its largest file is 5\.9 KiB \(6,000 bytes\)\): set 'path' to a directory on a larger disk\.$/
    )
    expect(error.message).not.toContain("'shard: K/N'")
  })

  it('counts a complete copy on disk as done, and neither probes nor downloads it again', async () => {
    const a = body('a', 50_000)
    const host = fileHost({ a, b: body('b', 1000) })
    await mkdir(outDir(), { recursive: true })
    await writeFile(path.join(outDir(), 'a'), a)
    const r = run(['a', 'b'], host, { free: freeFor(1, 1000) })
    const files = await r.done
    expect(files.map(f => [f.name, f.reused ?? false])).toEqual([
      ['a', true],
      ['b', false]
    ])
    expect(host.requests.sort()).toEqual(['a bytes=0-0', 'b', 'b bytes=0-0'])
    expect(r.log.lines.join('\n')).toMatch(
      /1 file\(s\) to download, .*; 1 already complete on disk;/
    )
  })

  it('restarts a .part file: it counts as to fetch, and its bytes are freed first', async () => {
    const host = fileHost({ a: body('a', 1000) })
    await mkdir(outDir(), { recursive: true })
    await writeFile(path.join(outDir(), 'a.part'), body('x', 900))
    const r = run(['a'], host, { free: freeFor(1, 100) })
    const [file] = await r.done
    expect(file?.bytes).toBe(1000)
    expect(file?.reused).toBeUndefined()

    const short = fileHost({ a: body('a', 1000) })
    await writeFile(path.join(outDir(), 'a'), '')
    await writeFile(path.join(outDir(), 'a.part'), body('x', 900))
    const again = run(['a'], short, { free: freeFor(1, 99) })
    await expect(again.done).rejects.toThrow(
      /the file system has [\d.]+ MiB \([\d,]+ bytes\) free and 900 B \(900 bytes\) of unfinished \.part files to restart/
    )
  })

  it('does not count files whose size the host would not give, and goes on', async () => {
    const host = fileHost({ a: body('a', 1000), b: body('b', 1000) }, ['b'])
    const r = run(['a', 'b'], host, { free: freeFor(2, 1000) })
    const error = await rejection(r.done)
    // The probe's refusal is the download's to report, in its own words.
    expect(error.message).toMatch(/HTTP 403/)
    expect(r.log.lines.join('\n')).toContain('1 of unknown size, not counted')
    expect(host.requests).toContain('a')
  })

  it('goes on when the file system does not say how much is free', async () => {
    const host = fileHost({ a: body('a', 1000) })
    const r = run(['a'], host, { free: undefined })
    expect((await r.done)[0]?.bytes).toBe(1000)
    expect(r.log.lines.join('\n')).toContain('free space unknown')
  })

  it('stops at once when cancelled while probing', async () => {
    const controller = new AbortController()
    const reason = new FatalError('Cancelled by SIGTERM')
    const host = fileHost({ a: body('a', 1000) })
    const probing = host.http.getStream.bind(host.http)
    host.http.getStream = (url, headers) => {
      controller.abort(reason)
      return probing(url, headers)
    }
    const r = run(['a'], host, { free: 1e12 }, controller.signal)
    expect(await rejection(r.done)).toBe(reason)
    expect(host.requests).toEqual(['a bytes=0-0'])
    expect(r.statfsAt).toEqual([])
  })
})

describe('freeBytesAt', () => {
  it('asks the nearest existing ancestor of a directory not made yet', async () => {
    const fs = await statfs(tmp.path)
    const free = await freeBytesAt(path.join(tmp.path, 'not', 'made', 'yet'))
    // The same file system: equal but for what other processes wrote in between.
    expect(Math.abs((free ?? 0) - fs.bavail * fs.bsize)).toBeLessThan(256 * 1024 * 1024)
  })

  it('is undefined when no ancestor can be asked (a file in the way)', async () => {
    await writeFile(path.join(tmp.path, 'file'), 'x')
    expect(await freeBytesAt(path.join(tmp.path, 'file', 'below'))).toBeUndefined()
  })
})
