import type { IncomingHttpHeaders, IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'

/** A response body, handed over chunk by chunk to a reader that deals with each at once. */
export interface Body {
  /**
   * Calls `onChunk` with every chunk until the body ends (resolves) or the connection breaks
   * (rejects). A chunk is valid only during the call: its memory is reused for the next one.
   * `onChunk` returning false means it needs no more: the connection is closed, and read resolves.
   */
  read(onChunk: (chunk: Buffer) => boolean): Promise<void>
  /** Closes the connection; a read in progress rejects with `reason`, or ends without one. */
  destroy(reason?: Error): void
}

export interface StreamResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Body
}

/** A node:http answer (or any byte stream) as a Body. */
export function streamBody(stream: Readable): Body {
  let reading = false
  return {
    read(onChunk) {
      if (reading) return Promise.reject(new Error('the body is already being read'))
      reading = true
      return new Promise<void>((resolve, reject) => {
        let settled = false
        const done = (error?: Error): void => {
          if (settled) return
          settled = true
          stream.off('data', onData)
          if (error) reject(error)
          else resolve()
        }
        const onData = (chunk: Buffer): void => {
          let more: boolean
          try {
            more = onChunk(chunk)
          } catch (error) {
            stream.destroy()
            done(error instanceof Error ? error : new Error(String(error)))
            return
          }
          if (!more) {
            stream.destroy()
            done()
          }
        }
        stream.on('data', onData)
        stream.once('end', () => done())
        stream.on('error', error => done(error))
        // A node:http answer cut mid-body closes without 'end' and, before Node 22, without error.
        stream.once('close', () => {
          const complete = (stream as Partial<IncomingMessage>).complete ?? stream.readableEnded
          done(complete ? undefined : new Error('aborted: the connection closed mid-body'))
        })
        if (stream.destroyed) done(new Error('aborted: the connection closed mid-body'))
      })
    },
    destroy(reason) {
      stream.destroy(reason)
    }
  }
}

/** A header's value, the first one when it came more than once. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** `Content-Length` as a number, when the server sent a valid one. */
export function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['content-length']
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined
  return Number(raw)
}
