interface Waiter {
  priority: number
  seq: number
  grant: () => void
  refuse: (reason: Error) => void
}

/**
 * Connections in flight, shared by every file and every part of a file: never more than the
 * `concurrency` input. Waiters with a lower priority number (an earlier file) go first, so the parts
 * of a file that has started are not starved by files that have not.
 */
export class Slots {
  private free: number
  private readonly waiting: Waiter[] = []
  private seq = 0

  /**
   * When `closed` aborts, every waiter is refused at once: one listener for all of them, where a
   * listener each (hundreds of files waiting) would trip Node's MaxListenersExceededWarning.
   */
  constructor(
    size: number,
    private readonly closed?: AbortSignal
  ) {
    this.free = size
    closed?.addEventListener('abort', () => this.refuseAll(closed.reason as Error), { once: true })
  }

  /**
   * Resolves with a release function once a slot is free; rejects when the slots are closed or the
   * waiter's own signal aborts.
   */
  acquire(priority: number, signal?: AbortSignal): Promise<() => void> {
    if (this.closed?.aborted) return Promise.reject(this.closed.reason as Error)
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    if (this.free > 0 && this.waiting.length === 0) {
      this.free--
      return Promise.resolve(this.releaser())
    }
    return new Promise((resolve, reject) => {
      const entry: Waiter = {
        priority,
        seq: this.seq++,
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(this.releaser())
        },
        refuse: reason => {
          signal?.removeEventListener('abort', onAbort)
          reject(reason)
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

  private refuseAll(reason: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.refuse(reason)
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
