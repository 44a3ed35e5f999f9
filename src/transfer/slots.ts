/**
 * Connections in flight, shared by every file and every part of a file: never more than the
 * `concurrency` input. Waiters with a lower priority number (an earlier file) go first, so the parts
 * of a file that has started are not starved by files that have not.
 */
export class Slots {
  private free: number
  private readonly waiting: { priority: number; seq: number; grant: () => void }[] = []
  private seq = 0

  constructor(size: number) {
    this.free = size
  }

  /** Resolves with a release function once a slot is free; rejects when the signal aborts. */
  acquire(priority: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const entry = {
        priority,
        seq: this.seq++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(this.releaser())
        }
      }
      const onAbort = (): void => {
        const at = this.waiting.indexOf(entry)
        if (at !== -1) this.waiting.splice(at, 1)
        reject(signal?.reason as Error)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      // Keep the queue ordered by priority, then arrival.
      let at = this.waiting.findIndex(
        w => w.priority > priority || (w.priority === priority && w.seq > entry.seq)
      )
      if (at === -1) at = this.waiting.length
      this.waiting.splice(at, 0, entry)
    })
  }

  private releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      if (next) next.grant()
      else this.free++
    }
  }
}
