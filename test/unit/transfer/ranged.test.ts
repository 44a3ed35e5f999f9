import { open } from 'node:fs/promises'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { partSizeFor, planParts } from '../../../src/transfer/ranged.js'
import { OrderedReader } from '../../../src/transfer/reader.js'
import { useTempDir } from '../../helpers/tmp.js'

const MiB = 1024 * 1024

describe('planParts and partSizeFor', () => {
  it('covers the file exactly, in order, without overlap', () => {
    for (const [total, size] of [
      [100, 30],
      [90, 30],
      [1, 8],
      [64 * MiB + 1, 8 * MiB]
    ] as const) {
      const parts = planParts(total, size)
      expect(parts[0]?.start).toBe(0)
      expect(parts.at(-1)?.end).toBe(total)
      for (let i = 1; i < parts.length; i++) expect(parts[i]?.start).toBe(parts[i - 1]?.end)
      for (const part of parts) {
        expect(part.end - part.start).toBeLessThanOrEqual(size)
        expect(part.written).toBe(0)
      }
    }
  })

  it('aims at two parts per connection, between 8 and 64 MiB', () => {
    expect(partSizeFor(512 * MiB, 8)).toBe(32 * MiB)
    expect(partSizeFor(64 * MiB, 8)).toBe(8 * MiB)
    expect(partSizeFor(10 * 1024 * MiB, 4)).toBe(64 * MiB)
  })
})

describe('OrderedReader', () => {
  const tmp = useTempDir('ordered-')

  it('feeds the bytes in file order, only up to the contiguous written prefix', async () => {
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251))
    const file = await open(path.join(tmp.path, 'f.part'), 'w+')
    await file.write(data, 0, data.length, 0)
    const parts = planParts(data.length, 1000)
    const fed: Buffer[] = []
    const reader = new OrderedReader(file, parts, chunk => fed.push(Buffer.from(chunk)))
    // Parts land out of order: the last one first, then the first; the middle one lags.
    ;(parts[2] as { written: number }).written = 1000
    ;(parts[0] as { written: number }).written = 1000
    ;(parts[1] as { written: number }).written = 400
    expect(reader.frontier()).toBe(1400)
    reader.poke()
    ;(parts[1] as { written: number }).written = 1000
    expect(reader.frontier()).toBe(3000)
    expect(await reader.finish()).toBe(3000)
    expect(Buffer.concat(fed).equals(data)).toBe(true)
    await file.close()
  })

  it('takes a chunk of any part from the receive buffer once the prefix has reached it', async () => {
    // The file on disk holds zeros: whatever is read back from it shows as zeros.
    const file = await open(path.join(tmp.path, 'take.part'), 'w+')
    await file.write(Buffer.alloc(2000), 0, 2000, 0)
    const parts = planParts(2000, 1000)
    const fed: Buffer[] = []
    const reader = new OrderedReader(file, parts, chunk => fed.push(Buffer.from(chunk)))
    const ones = Buffer.alloc(1000, 1)
    const twos = Buffer.alloc(500, 2)
    // The second part's first chunk lands before the prefix reaches it: read back later.
    reader.take(twos, 1000)
    ;(parts[1] as { written: number }).written = 500
    reader.take(ones, 0)
    ;(parts[0] as { written: number }).written = 1000
    reader.poke()
    // Its next chunk is the next byte in order: taken as it is.
    reader.take(twos, 1500)
    ;(parts[1] as { written: number }).written = 1000
    expect(await reader.finish()).toBe(2000)
    expect(Buffer.concat(fed)).toEqual(Buffer.concat([ones, Buffer.alloc(500), twos]))
    await file.close()
  })

  it('reports a file shorter than its parts say', async () => {
    const file = await open(path.join(tmp.path, 'short.part'), 'w+')
    await file.write(Buffer.alloc(10), 0, 10, 0)
    const parts = planParts(100, 100)
    ;(parts[0] as { written: number }).written = 100
    const reader = new OrderedReader(file, parts, () => undefined)
    await expect(reader.finish()).rejects.toThrow(/ended at 10/)
    await file.close()
  })
})
