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
