import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Body } from '../../../src/http/body.js'
import {
  AnswerTooLargeError,
  guardBody,
  readLimited,
  type Scope
} from '../../../src/http/deadline.js'
import { FatalError, TransientError, isTransient } from '../../../src/support/errors.js'

/** A body the test feeds by hand; destroy() fails the read in progress with its reason. */
function handBody(): Body & { push(text: string): void; end(): void; destroyed: unknown[] } {
  let onChunk: ((chunk: Buffer) => boolean) | undefined
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined
  const destroyed: unknown[] = []
  return {
    destroyed,
    read(callback) {
      onChunk = callback
      return new Promise((resolve, reject) => (settle = { resolve, reject }))
    },
    push(text) {
      if (onChunk && !onChunk(Buffer.from(text))) settle?.resolve()
    },
    end() {
      settle?.resolve()
    },
    destroy(reason) {
      destroyed.push(reason)
      if (reason) settle?.reject(reason)
      else settle?.resolve()
    }
  }
}

const noScope: Scope = () => ({ signal: undefined, dispose: () => undefined })

describe('guardBody', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('destroys a body that sends nothing for idleMs: a transient error naming host and stage', async () => {
    const body = handBody()
    const guarded = guardBody(
      body,
      { idleMs: 1000, scope: noScope },
      'files.example:443',
      'in the middle of its HTTP 503 answer'
    )
    // Caught at once: it fails while the clock is advanced, before the test awaits it.
    const read = guarded
      .read(() => true)
      .then(
        () => undefined,
        (error: unknown) => error
      )
    body.push('<Error>')
    await vi.advanceTimersByTimeAsync(999)
    body.push('<Code>')
    await vi.advanceTimersByTimeAsync(999)
    expect(body.destroyed).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(await read).toMatchObject({
      message: 'files.example:443 sent nothing for 1s in the middle of its HTTP 503 answer'
    })
    const [reason] = body.destroyed
    expect(reason).toBeInstanceOf(TransientError)
    expect(isTransient(reason)).toBe(true)
  })

  it('destroys the body when the run is cancelled, with the cancellation as the reason', async () => {
    const controller = new AbortController()
    const disposed: number[] = []
    const scope: Scope = () => ({ signal: controller.signal, dispose: () => disposed.push(1) })
    const body = handBody()
    const read = guardBody(body, { idleMs: 60_000, scope }, 'h', 'stage').read(() => true)
    controller.abort(new FatalError('Cancelled by SIGTERM'))
    await expect(read).rejects.toThrow('Cancelled by SIGTERM')
    expect(disposed).toEqual([1])
  })

  it('ends quietly with the body, leaving no timer', async () => {
    const body = handBody()
    const read = guardBody(body, { idleMs: 1000, scope: noScope }, 'h', 'stage').read(() => true)
    body.end()
    await read
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('readLimited', () => {
  it('cuts an error page at the limit', async () => {
    const body = handBody()
    const text = readLimited(body, 5)
    body.push('abc')
    body.push('defgh')
    body.end()
    await expect(text).resolves.toBe('abcde')
  })

  it("fails an answer over the limit that must be whole, without reading on: not a retried 'not JSON'", async () => {
    const body = handBody()
    const text = readLimited(body, 5, 'fail')
    body.push('abc')
    body.push('defgh')
    await expect(text).rejects.toBeInstanceOf(AnswerTooLargeError)
    const error = await text.catch((caught: unknown) => caught)
    expect(isTransient(error)).toBe(false)
  })

  it('passes a stall or a cancellation on as it is', async () => {
    const body = handBody()
    const text = readLimited(body, 5)
    body.destroy(new TransientError('h sent nothing for 1s'))
    await expect(text).rejects.toThrow('h sent nothing for 1s')
  })
})
