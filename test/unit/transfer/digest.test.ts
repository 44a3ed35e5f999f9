import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { inThreadHasher, type Hasher } from '../../../src/transfer/digest.js'
import { defaultHasher, hashThreads, workerHasher } from '../../../src/transfer/digest-ring.js'

const MiB = 1024 * 1024

const digestsOf = (data: Buffer) => ({
  md5: createHash('md5').update(data).digest('hex'),
  sha256: createHash('sha256').update(data).digest('hex')
})

/** Odd chunk sizes (a byte, a few KiB, over a MiB) so that frames wrap around the ring's end. */
function chunks(data: Buffer, seed: number): Buffer[] {
  const sizes = [1, 17, 4096, 65_536, 1_500_000, 333_333, 3 * MiB]
  const out: Buffer[] = []
  for (let at = 0, i = seed; at < data.length; i++) {
    const size = sizes[i % sizes.length] as number
    out.push(data.subarray(at, at + size))
    at += size
  }
  return out
}

describe.each([
  ['one thread for both digests', () => workerHasher(1)],
  ['two threads', () => workerHasher(2)],
  ['this thread', () => inThreadHasher()]
] as const)('hasher: %s', (_name, make: () => Hasher) => {
  it('gives the MD5 and sha256 of files fed at once, interleaved, through the ring', async () => {
    const hasher = make()
    try {
      // 3 × 12 MiB through an 8 MiB ring: it wraps and fills, and the feeding waits for the threads.
      const files = [0, 1, 2].map(() => randomBytes(12 * MiB))
      const jobs = files.map((_, i) => hasher.open(i !== 1))
      const pieces = files.map((data, i) => chunks(data, i))
      for (let round = 0; pieces.some(list => list.length > 0); round++) {
        pieces.forEach((list, i) => {
          const chunk = list.shift()
          if (chunk) jobs[i]?.feed(Buffer.from(chunk))
        })
      }
      const results = await Promise.all(jobs.map((job, i) => job.finish(files[i]?.length ?? 0)))
      results.forEach((result, i) => {
        const want = digestsOf(files[i] as Buffer)
        expect(result.sha256).toBe(want.sha256)
        expect(result.md5).toBe(i === 1 ? undefined : want.md5)
      })
    } finally {
      hasher.dispose()
    }
  })

  it('refuses to finish a file with bytes missing, and cancels quietly', async () => {
    const hasher = make()
    try {
      const job = hasher.open(true)
      job.feed(Buffer.from('abc'))
      await expect(job.finish(4)).rejects.toThrow(/hashed 3 bytes of 4/)
      const other = hasher.open(false)
      other.feed(Buffer.from('abc'))
      other.cancel()
      other.cancel()
      const last = hasher.open(false)
      last.feed(Buffer.from('xyz'))
      expect((await last.finish(3)).sha256).toBe(digestsOf(Buffer.from('xyz')).sha256)
    } finally {
      hasher.dispose()
    }
  })

  it('hashes a file opened after prepare() started the threads, and prepare() twice is harmless', async () => {
    const hasher = make()
    try {
      hasher.prepare()
      hasher.prepare()
      const job = hasher.open(false)
      job.feed(Buffer.from('abc'))
      expect((await job.finish(3)).sha256).toBe(digestsOf(Buffer.from('abc')).sha256)
    } finally {
      hasher.dispose()
    }
  })

  it('starts again after dispose', async () => {
    const hasher = make()
    hasher.dispose()
    const job = hasher.open(true)
    job.feed(Buffer.from('abc'))
    expect(await job.finish(3)).toEqual(digestsOf(Buffer.from('abc')))
    hasher.dispose()
  })
})

describe('hashThreads and defaultHasher', () => {
  it('gives MD5 and sha256 a thread each from two cores, one for both below', () => {
    expect(hashThreads(1)).toBe(1)
    expect(hashThreads(2)).toBe(2)
    expect(hashThreads(16)).toBe(2)
  })

  it('hashes with the default threads', async () => {
    const hasher = defaultHasher()
    const job = hasher.open(true)
    job.feed(Buffer.from('hello'))
    expect(await job.finish(5)).toEqual(digestsOf(Buffer.from('hello')))
    hasher.dispose()
  })
})
