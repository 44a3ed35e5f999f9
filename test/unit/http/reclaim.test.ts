import { describe, expect, it } from 'vitest'
import { minorGc, reclaimer } from '../../../src/http/reclaim.js'

describe('reclaimer', () => {
  it('collects once per `every` bytes received, across chunks', () => {
    let collections = 0
    const note = reclaimer(100, () => collections++)
    for (let i = 0; i < 9; i++) note(30)
    expect(collections).toBe(2)
    note(1000)
    expect(collections).toBe(3)
  })

  it('does nothing where the engine offers no collection', () => {
    const note = reclaimer(1, undefined)
    expect(() => note(10)).not.toThrow()
  })
})

describe('minorGc', () => {
  it('is available on this Node and frees dead buffers', () => {
    const collect = minorGc()
    expect(collect).toBeTypeOf('function')
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 256; i++) Buffer.allocUnsafeSlow(64 * 1024).fill(i)
    collect?.()
    // 16 MiB was allocated and dropped: a young collection returns most of it.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 * 1024 * 1024)
  })
})
