import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { DiskError, errorMessage } from '../support/errors.js'
import { DIGEST_WORKER, RING_LAYOUT as L } from './digest-worker.js'
import { inThreadHasher, type Digests, type Hasher } from './digest.js'

const MiB = 1024 * 1024
/** The ring's size (a power of two): what the hashing threads may lag behind the sockets. */
const RING_BYTES = 8 * MiB
/** The largest payload of one frame: bigger chunks go as several. */
const MAX_FRAME = 1 * MiB
/** Data a sleeping hashing thread is woken for. */
const WAKE_EVERY = 256 * 1024
/** Hashing threads stop after this long with no file open, and start again for the next one. */
const IDLE_MS = 250
/** Threads started ahead of the first file wait this long for it. */
const PREPARED_MS = 2000
/** A full ring that no thread reads from for this long: the threads are gone. */
const STUCK_MS = 60_000
/** Each hashing thread's heap: it holds a few hash states and nothing else. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 }

interface Threads {
  workers: Worker[]
  bytes: Buffer
  view: DataView
  ctl: Int32Array
  write: number
  /** The write position sleeping readers were last woken for. */
  told: number
  waiting: Map<number, { left: number; digests: Record<string, string>; settle: Settle }>
}
type Settle = (result: Digests | Error) => void

/**
 * Hashing threads shared by every download of the process, fed through one ring: the socket
 * thread copies each chunk into it once (digest-worker.ts) and every thread hashes its share. With
 * `threads` 2, MD5 and sha256 run side by side; with 1, one after the other on one thread. When
 * the ring is full the socket thread waits for the hashing (Atomics.wait): the kernel's socket
 * buffers then fill and the host slows down, as with `curl | md5sum`. The threads stop on
 * dispose(), or once no file has been open for IDLE_MS.
 */
export function workerHasher(threads: number): Hasher {
  let live: Threads | undefined
  let failure: Error | undefined
  let nextId = 0
  let jobs = 0
  let idle: NodeJS.Timeout | undefined
  const stop = (): void => {
    const t = live
    live = undefined
    if (!t) return
    Atomics.store(t.ctl, L.STOP, 1)
    Atomics.notify(t.ctl, L.WRITE)
    for (const worker of t.workers) worker.unref()
  }
  const start = (): Threads => {
    const ring = new SharedArrayBuffer(RING_BYTES)
    const control = new SharedArrayBuffer(4 * (L.READ + threads))
    const t: Threads = {
      workers: [],
      bytes: Buffer.from(ring),
      view: new DataView(ring),
      ctl: new Int32Array(control),
      write: 0,
      told: 0,
      waiting: new Map()
    }
    const fail = (why: string): void => {
      failure ??= new Error(`the hashing thread stopped (${why})`)
      for (const entry of t.waiting.values()) entry.settle(failure)
      t.waiting.clear()
    }
    for (let index = 0; index < threads; index++) {
      const worker = new Worker(DIGEST_WORKER, {
        eval: true,
        workerData: { index, ring, control },
        resourceLimits: RESOURCE_LIMITS
      })
      worker.on('message', (reply: { id: number; digests: Record<string, string> }) => {
        const entry = t.waiting.get(reply.id)
        if (!entry) return
        Object.assign(entry.digests, reply.digests)
        if (--entry.left > 0) return
        t.waiting.delete(reply.id)
        entry.settle({ md5: entry.digests['md5'], sha256: entry.digests['sha256'] ?? '' })
      })
      worker.on('error', error => fail(errorMessage(error)))
      // Stopped by stop(): not a failure.
      worker.on('exit', code => (Atomics.load(t.ctl, L.STOP) ? undefined : fail(`exit ${code}`)))
      t.workers.push(worker)
    }
    return t
  }

  /** Waits (blocking this thread) until every reader has left `need` bytes free. */
  const reserve = (t: Threads, need: number): void => {
    let since = Date.now()
    let slowest = 0
    for (;;) {
      if (failure) throw new DiskError(failure.message)
      let used = 0
      for (let k = 0; k < threads; k++) {
        const read = Atomics.load(t.ctl, L.READ + k) >>> 0
        const lag = (t.write - read) >>> 0
        if (lag >= used) [used, slowest] = [lag, k]
      }
      if (RING_BYTES - used >= need) return
      const read = Atomics.load(t.ctl, L.READ + slowest)
      Atomics.store(t.ctl, L.WRITER_ASLEEP, 1)
      const woke = Atomics.wait(t.ctl, L.READ + slowest, read, 100)
      Atomics.store(t.ctl, L.WRITER_ASLEEP, 0)
      if (woke !== 'timed-out') since = Date.now()
      else if (Date.now() - since > STUCK_MS) {
        throw new DiskError(`the hashing threads read nothing for ${STUCK_MS / 1000} s`)
      }
    }
  }

  /** Appends one frame (by fill(), a memcpy: set() into shared memory copies word by word). */
  const frame = (t: Threads, op: number, id: number, payload?: Uint8Array): void => {
    const length = payload?.length ?? 0
    const size = L.HEADER + ((length + 15) & ~15)
    let at = t.write & (RING_BYTES - 1)
    if (at + size > RING_BYTES) {
      reserve(t, RING_BYTES - at)
      t.view.setUint32(at, L.OP_WRAP, true)
      t.write = (t.write + RING_BYTES - at) >>> 0
      at = 0
    }
    reserve(t, size)
    t.view.setUint32(at, op, true)
    t.view.setUint32(at + 4, id, true)
    t.view.setUint32(at + 8, length, true)
    if (payload && length > 0) t.bytes.fill(payload, at + L.HEADER, at + L.HEADER + length)
    t.write = (t.write + size) >>> 0
    Atomics.store(t.ctl, L.WRITE, t.write | 0)
    // Sleeping readers are woken for every frame but data, and for data once it adds up; a
    // reader also looks again on its own within a second.
    if (
      Atomics.load(t.ctl, L.READERS_ASLEEP) &&
      (op !== L.OP_DATA || (t.write - t.told) >>> 0 >= WAKE_EVERY)
    ) {
      t.told = t.write
      Atomics.notify(t.ctl, L.WRITE)
    }
  }

  return {
    open(md5) {
      if (failure) throw failure
      const t = (live ??= start())
      jobs++
      clearTimeout(idle)
      const id = (nextId = (nextId + 1) >>> 0)
      const algorithms = md5 ? ['md5', 'sha256'] : ['sha256']
      // Each algorithm on a thread of its own, as far as there are threads; a lone sha256 goes
      // to the threads in turn.
      const assigned: string[][] = Array.from({ length: threads }, () => [])
      algorithms.forEach((name, i) => assigned[(i + (md5 ? 0 : id)) % threads]?.push(name))
      frame(t, L.OP_OPEN, id, Buffer.from(JSON.stringify(assigned), 'latin1'))
      let fed = 0
      let open = true
      const close = (): void => {
        if (!open) return
        open = false
        if (--jobs > 0) return
        clearTimeout(idle)
        idle = setTimeout(stop, IDLE_MS)
      }
      return {
        feed(chunk) {
          if (!open) throw new Error('the digest was already finished or cancelled')
          for (let from = 0; from < chunk.length; from += MAX_FRAME) {
            frame(t, L.OP_DATA, id, chunk.subarray(from, from + MAX_FRAME))
          }
          fed += chunk.length
        },
        async finish(bytes) {
          if (!open) throw new Error('the digest was already finished or cancelled')
          if (fed !== bytes) throw new DiskError(`hashed ${fed} bytes of ${bytes}`)
          const done = new Promise<Digests | Error>(settle => {
            const left = assigned.filter(names => names.length > 0).length
            t.waiting.set(id, { left, digests: {}, settle })
          })
          try {
            frame(t, L.OP_FINISH, id)
          } finally {
            close()
          }
          const result = await done
          if (result instanceof Error) throw new DiskError(result.message)
          return result
        },
        cancel() {
          if (!open) return
          close()
          if (live === t && !failure) frame(t, L.OP_CANCEL, id)
        }
      }
    },
    prepare() {
      if (failure || live) return
      live = start()
      if (jobs > 0) return
      clearTimeout(idle)
      idle = setTimeout(stop, PREPARED_MS)
    },
    dispose() {
      clearTimeout(idle)
      stop()
    }
  }
}

/**
 * How many hashing threads: on 2 cores or more, MD5 and sha256 each get one, so that a verified
 * download takes about as long as MD5 alone (the slower of the two); one thread for both would
 * take as long as both together, for the same CPU time (the floor rows of bench/RESULTS.md).
 */
export function hashThreads(cores = availableParallelism()): number {
  return cores >= 2 ? 2 : 1
}

/** Hashing threads, or this thread where none can start. */
export function defaultHasher(threads = hashThreads()): Hasher {
  const pool = workerHasher(threads)
  let fallback: Hasher | undefined
  return {
    open(md5) {
      if (fallback) return fallback.open(md5)
      try {
        return pool.open(md5)
      } catch {
        fallback = inThreadHasher()
        return fallback.open(md5)
      }
    },
    prepare() {
      if (fallback) return
      try {
        pool.prepare()
      } catch {
        fallback = inThreadHasher()
      }
    },
    dispose: () => pool.dispose()
  }
}
