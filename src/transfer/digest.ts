import { createHash, type Hash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { DiskError, errorMessage } from '../support/errors.js'
import { DIGEST_WORKER } from './digest-worker.js'

/**
 * The MD5 and sha256 of a file as it is written, computed by reading it back from the page cache
 * off the thread that reads the sockets. MD5 runs at ~830 MiB/s on one core here (`openssl speed
 * md5`), slower than a local download's ~1 GiB/s: on the socket thread it made a verified 1 GiB
 * download 2.5× curl; read back in a worker, 1.6–1.9× (issue 13's floor runs, bench case 7).
 */

export interface Digests {
  md5: string | undefined
  sha256: string
}

/** One file's digests in the making. */
export interface DigestJob {
  /** Bytes `[0, frontier)` are on disk and final. */
  advance(frontier: number): void
  /** The file's `bytes` are all on disk: the digests of exactly those bytes. */
  finish(bytes: number): Promise<Digests>
  /** Abandoned (the attempt failed): stop reading. Safe after finish. */
  cancel(): void
}

export interface Hasher {
  open(path: string, md5: boolean): DigestJob
  /** Stops its threads at once (the run is over); a later open starts them again. */
  dispose(): void
}

const MiB = 1024 * 1024
/** Frontier moves smaller than this are not worth a message to the worker. */
const POST_EVERY = 4 * MiB
/** Hashing threads stop after this long with no file open, and start again for the next one. */
const IDLE_MS = 250

type Reply = { id: number; digests: Record<string, string> } | { id: number; error: string }

/**
 * Hashing threads shared by every download of the process: with `threads` 2, MD5 and sha256
 * each get their own (a verified 1 GiB: 1.7 s with two, 2.0 s with one, on HTTP here). They stop
 * on dispose(), or once no file has been open for IDLE_MS: a worker's message ports keep the
 * process alive even after `unref()` (seen here: a cancelled run did not exit).
 */
export function workerHasher(threads: number): Hasher {
  const pool: {
    worker: Worker
    waiting: Map<number, (reply: Reply) => void>
  }[] = []
  let failure: Error | undefined
  let nextId = 0
  let jobs = 0
  let idle: NodeJS.Timeout | undefined
  const stop = (): void => {
    const workers = pool.splice(0).map(entry => entry.worker)
    for (const worker of workers) void worker.terminate()
  }
  const opened = (): void => {
    jobs++
    clearTimeout(idle)
  }
  const closed = (): void => {
    if (--jobs > 0) return
    clearTimeout(idle)
    idle = setTimeout(stop, IDLE_MS)
  }
  const start = (): void => {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(DIGEST_WORKER, { eval: true })
      const entry = { worker, waiting: new Map<number, (reply: Reply) => void>() }
      worker.on('message', (reply: Reply) => {
        const settle = entry.waiting.get(reply.id)
        entry.waiting.delete(reply.id)
        settle?.(reply)
      })
      const stopped = (why: string): void => {
        // Stopped by stop(): not a failure.
        if (!pool.includes(entry)) return
        failure ??= new Error(`the hashing thread stopped (${why})`)
        for (const settle of entry.waiting.values()) settle({ id: -1, error: failure.message })
        entry.waiting.clear()
      }
      worker.on('error', error => stopped(errorMessage(error)))
      worker.on('exit', code => stopped(`exit code ${code}`))
      pool.push(entry)
    }
  }
  return {
    open(path, md5) {
      if (pool.length === 0) start()
      opened()
      const id = ++nextId
      const algorithms = md5 ? ['md5', 'sha256'] : ['sha256']
      // Each algorithm on a thread of its own, as far as there are threads.
      const assigned = new Map<(typeof pool)[number], string[]>()
      algorithms.forEach((algorithm, i) => {
        const entry = pool[i % pool.length] as (typeof pool)[number]
        assigned.set(entry, [...(assigned.get(entry) ?? []), algorithm])
      })
      for (const [entry, names] of assigned) {
        entry.worker.postMessage({ op: 'open', id, path, algorithms: names })
      }
      const post = (message: object): void => {
        for (const entry of assigned.keys()) entry.worker.postMessage({ ...message, id })
      }
      let posted = 0
      let open = true
      return {
        advance(frontier) {
          if (!open || frontier - posted < POST_EVERY) return
          posted = frontier
          post({ op: 'advance', frontier })
        },
        async finish(bytes) {
          if (!open) throw new Error('the digest was already finished or cancelled')
          open = false
          const replies = await Promise.all(
            [...assigned.keys()].map(
              entry =>
                new Promise<Reply>(resolve => {
                  if (failure) return resolve({ id, error: failure.message })
                  entry.waiting.set(id, resolve)
                  entry.worker.postMessage({ op: 'finish', id, bytes })
                })
            )
          ).finally(closed)
          const digests: Record<string, string> = {}
          for (const reply of replies) {
            if ('error' in reply) throw new DiskError(reply.error)
            Object.assign(digests, reply.digests)
          }
          return { md5: digests['md5'], sha256: digests['sha256'] ?? '' }
        },
        cancel() {
          if (!open) return
          open = false
          post({ op: 'cancel' })
          closed()
        }
      }
    },
    dispose() {
      clearTimeout(idle)
      stop()
    }
  }
}

/** The same reading back and hashing on the calling thread: for tests, and where no worker starts. */
export function inThreadHasher(): Hasher {
  return {
    open(path, md5) {
      const hashes: Hash[] = [createHash('sha256'), ...(md5 ? [createHash('md5')] : [])]
      const buffer = Buffer.allocUnsafe(MiB)
      let fed = 0
      let fd: number | undefined
      let failure: unknown
      const readTo = (frontier: number): void => {
        fd ??= openSync(path, 'r')
        while (fed < frontier) {
          const bytes = readSync(fd, buffer, 0, Math.min(buffer.length, frontier - fed), fed)
          if (bytes === 0) throw new Error(`the file ended at ${fed} while reading it back`)
          for (const hash of hashes) hash.update(buffer.subarray(0, bytes))
          fed += bytes
        }
      }
      const close = (): void => {
        if (fd !== undefined) closeSync(fd)
        fd = undefined
      }
      return {
        advance(frontier) {
          if (failure !== undefined || frontier - fed < POST_EVERY) return
          try {
            readTo(frontier)
          } catch (error) {
            failure = error
          }
        },
        finish(bytes) {
          try {
            if (failure !== undefined) throw failure as Error
            readTo(bytes)
            const [sha256, hash] = hashes as [Hash, Hash | undefined]
            return Promise.resolve({ md5: hash?.digest('hex'), sha256: sha256.digest('hex') })
          } catch (error) {
            return Promise.reject(new DiskError(errorMessage(error)))
          } finally {
            close()
          }
        },
        cancel: close
      }
    },
    dispose: () => undefined
  }
}

/**
 * Hashing threads, or this thread where none can start. Two threads: MD5 is the slow one, and
 * sha256 should not queue behind it.
 */
export function defaultHasher(): Hasher {
  const threads = workerHasher(2)
  let fallback: Hasher | undefined
  return {
    open(path, md5) {
      if (fallback) return fallback.open(path, md5)
      try {
        return threads.open(path, md5)
      } catch {
        fallback = inThreadHasher()
        return fallback.open(path, md5)
      }
    },
    dispose: () => threads.dispose()
  }
}
