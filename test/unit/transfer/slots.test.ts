import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { Slots } from '../../../src/transfer/slots.js'

const tick = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

describe('Slots', () => {
  it('never hands out more slots than it has', async () => {
    const slots = new Slots(2)
    const granted: number[] = []
    const releases = await Promise.all([slots.acquire(0), slots.acquire(0)])
    const third = slots.acquire(0).then(release => {
      granted.push(3)
      return release
    })
    await tick()
    expect(granted).toEqual([])
    releases[0]()
    const release3 = await third
    expect(granted).toEqual([3])
    releases[1]()
    release3()
  })

  it('serves a lower priority number first, then arrival order', async () => {
    const slots = new Slots(1)
    const first = await slots.acquire(5)
    const order: string[] = []
    const waits = [
      slots.acquire(3).then(r => (order.push('p3a'), r)),
      slots.acquire(1).then(r => (order.push('p1'), r)),
      slots.acquire(3).then(r => (order.push('p3b'), r))
    ]
    first()
    for (const wait of waits) {
      // Each grant releases at once so the next waiter can go.
      void wait.then(release => release())
    }
    await Promise.all(waits)
    expect(order).toEqual(['p1', 'p3a', 'p3b'])
  })

  it('a release twice frees one slot only', async () => {
    const slots = new Slots(1)
    const release = await slots.acquire(0)
    release()
    release()
    await slots.acquire(0)
    let second = false
    void slots.acquire(0).then(() => (second = true))
    await tick()
    expect(second).toBe(false)
  })

  it('an abort takes a waiter out of the queue and rejects it with the reason', async () => {
    const slots = new Slots(1)
    const held = await slots.acquire(0)
    const controller = new AbortController()
    const waiting = slots.acquire(0, controller.signal)
    controller.abort(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
    held()
    // The aborted waiter did not swallow the freed slot.
    await expect(
      Promise.race([slots.acquire(0).then(() => 'granted'), tick().then(() => 'stuck')])
    ).resolves.toBe('granted')
  })

  it('refuses at once when already aborted', async () => {
    const controller = new AbortController()
    controller.abort(new Error('gone'))
    await expect(new Slots(3).acquire(0, controller.signal)).rejects.toThrow('gone')
  })

  it('closing refuses every waiter with one listener on the closing signal, however many wait', async () => {
    const closing = new AbortController()
    const slots = new Slots(1, closing.signal)
    await slots.acquire(0)
    const waiters = Array.from({ length: 200 }, (_, i) => slots.acquire(i))
    expect(getEventListeners(closing.signal, 'abort')).toHaveLength(1)
    closing.abort(new Error('stopped'))
    for (const waiter of waiters) await expect(waiter).rejects.toThrow('stopped')
    await expect(slots.acquire(0)).rejects.toThrow('stopped')
  })
})
