/**
 * A controller that aborts when `parent` does, for work that must also stop on its own (the first
 * failure of several transfers stops the rest). `dispose` unhooks it from the parent.
 */
export function linkedAbort(parent: AbortSignal | undefined): {
  controller: AbortController
  dispose: () => void
} {
  const controller = new AbortController()
  const forward = (): void => controller.abort(parent?.reason)
  if (parent?.aborted) forward()
  else parent?.addEventListener('abort', forward, { once: true })
  return { controller, dispose: () => parent?.removeEventListener('abort', forward) }
}

/**
 * Signals for many tasks under one parent, with one listener on the parent however many tasks
 * there are. Each transfer listens to its signal (a request, a body, a retry's sleep): on one
 * shared signal that is a listener per file or part in flight, and Node warns past ten
 * (MaxListenersExceededWarning) when the job is normal, a hundred files at 16 connections.
 */
export class AbortFanout {
  private readonly children = new Set<AbortController>()
  private readonly forward = (): void => {
    for (const child of this.children) child.abort(this.parent.reason)
    this.children.clear()
  }

  constructor(private readonly parent: AbortSignal) {
    parent.addEventListener('abort', this.forward, { once: true })
  }

  /** A signal that aborts with the parent; `dispose` once its task is done. */
  child(): { signal: AbortSignal; dispose: () => void } {
    const controller = new AbortController()
    if (this.parent.aborted) controller.abort(this.parent.reason)
    else this.children.add(controller)
    return {
      signal: controller.signal,
      dispose: () => {
        this.children.delete(controller)
      }
    }
  }

  dispose(): void {
    this.parent.removeEventListener('abort', this.forward)
    this.children.clear()
  }
}
