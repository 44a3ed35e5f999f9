import { FatalError, TransientError } from '../support/errors.js'
import { formatDuration } from '../support/format.js'
import type { Body } from './body.js'

/**
 * Every read of an answer, its head and its body, file, error page or API answer, on either
 * transport, has a deadline and ends with the run: a host that sends a head and then nothing, or
 * that never answers and ignores our FIN, would otherwise hold the step until the job's own
 * timeout (6 hours by default).
 */

/**
 * A signal that aborts with the run's, and its disposal: one per request or read, as many in
 * flight as there are connections, each hung on the run's signal through one AbortFanout.
 */
export type Scope = () => { signal: AbortSignal | undefined; dispose: () => void }

export interface ReadGuard {
  /** No byte for this long: the socket is destroyed and the read fails (a TransientError). */
  idleMs: number
  /** The run's signal: a cancelled job destroys the socket at once. */
  scope: Scope
}

/** The error of a host that went silent: transient, naming the host and what we waited for. */
export function stallError(host: string, stage: string, idleMs: number): TransientError {
  return new TransientError(`${host} sent nothing for ${formatDuration(idleMs)} ${stage}`)
}

/**
 * The body with an idle timer and the run's signal: either destroys the connection, and the read
 * in progress rejects with the reason. A caller's own, shorter timer (the sink's) still applies.
 */
export function guardBody(body: Body, guard: ReadGuard, host: string, stage: string): Body {
  return {
    read(onChunk) {
      const { signal, dispose } = guard.scope()
      if (signal?.aborted) {
        dispose()
        body.destroy(signal.reason as Error)
        return Promise.reject(signal.reason as Error)
      }
      const timer = setTimeout(
        () => body.destroy(stallError(host, stage, guard.idleMs)),
        guard.idleMs
      )
      const onAbort = (): void => body.destroy(signal?.reason as Error)
      signal?.addEventListener('abort', onAbort, { once: true })
      return body
        .read(chunk => {
          timer.refresh()
          return onChunk(chunk)
        })
        .finally(() => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
          dispose()
        })
    },
    destroy: reason => body.destroy(reason)
  }
}

/** An answer longer than the most the caller takes, when it must be whole (an API answer). */
export class AnswerTooLargeError extends FatalError {
  override name = 'AnswerTooLargeError'
}

/**
 * Reads at most `limit` bytes of a body as text. `overLimit: 'cut'` discards the rest (an error
 * page: its start is the explanation); 'fail' stops reading and throws AnswerTooLargeError, for
 * answers that are useless cut (JSON).
 */
export async function readLimited(
  body: Body,
  limit: number,
  overLimit: 'cut' | 'fail' = 'cut'
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  const cut = { over: false }
  try {
    await body.read(chunk => {
      if (size + chunk.length > limit && overLimit === 'fail') {
        cut.over = true
        return false
      }
      if (size < limit) {
        // A copy: the chunk's memory may be reused.
        const part = Buffer.from(chunk.subarray(0, limit - size))
        chunks.push(part)
        size += part.length
      }
      return true
    })
  } catch (error) {
    if (error instanceof TransientError || error instanceof FatalError) throw error
    throw new TransientError(
      `the connection broke while reading the response (${(error as Error).message})`
    )
  }
  if (cut.over) throw new AnswerTooLargeError(`the answer is larger than ${limit} bytes`)
  return Buffer.concat(chunks).toString('utf8')
}
