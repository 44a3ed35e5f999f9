/**
 * The hashing thread's program (digest-ring.ts), as source for `new Worker(…, { eval: true })`:
 * the bundle is one file, and a worker file beside it would have to be built and shipped apart.
 *
 * It reads frames from the ring, a SharedArrayBuffer the socket thread copies each received chunk
 * into once: no read back from the page cache, no message per chunk. A frame is a 16-byte header
 * (op, file id, payload length) and its payload padded to 16 bytes. Every thread reads every
 * frame and hashes, per file, the algorithms the OPEN frame gave its index; it publishes how far
 * it has read, and sleeps on the write position when the ring is empty. Wake-ups are batched both
 * ways (a futex call and a context switch per 16 KiB TLS record would cost more than the copy). Replies (the digests of a
 * FINISH) go back as messages. A set STOP flag ends the loop, and with it the thread.
 */
export const RING_LAYOUT = {
  /** Control words (Int32Array indices). */
  WRITE: 0,
  /** Set by a reader about to sleep on WRITE: the writer then wakes it. */
  READERS_ASLEEP: 1,
  STOP: 2,
  /** Set by the writer about to sleep on a reader's position: that reader then wakes it. */
  WRITER_ASLEEP: 3,
  /** Reader k's position is at READ + k. */
  READ: 4,
  HEADER: 16,
  OP_OPEN: 1,
  OP_DATA: 2,
  OP_FINISH: 3,
  OP_CANCEL: 4,
  /** The rest of the ring up to its end is unused: go on at 0. */
  OP_WRAP: 5
} as const

export const DIGEST_WORKER = String.raw`
'use strict'
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const L = ${JSON.stringify(RING_LAYOUT)}
const { index, ring, control } = workerData
const bytes = new Uint8Array(ring)
const words = new DataView(ring)
const ctl = new Int32Array(control)
const mask = bytes.length - 1
const jobs = new Map()
let read = 0
let told = 0

for (;;) {
  const write = Atomics.load(ctl, L.WRITE) >>> 0
  if (write === read) {
    if (Atomics.load(ctl, L.STOP)) break
    Atomics.add(ctl, L.READERS_ASLEEP, 1)
    if (Atomics.load(ctl, L.WRITE) >>> 0 === read && !Atomics.load(ctl, L.STOP)) {
      Atomics.wait(ctl, L.WRITE, read | 0, 1000)
    }
    Atomics.sub(ctl, L.READERS_ASLEEP, 1)
    continue
  }
  const at = read & mask
  const op = words.getUint32(at, true)
  const id = words.getUint32(at + 4, true)
  const length = words.getUint32(at + 8, true)
  const payload = bytes.subarray(at + L.HEADER, at + L.HEADER + length)
  let size = L.HEADER + ((length + 15) & ~15)
  if (op === L.OP_WRAP) size = bytes.length - at
  else if (op === L.OP_OPEN) {
    const mine = JSON.parse(Buffer.from(payload).toString('latin1'))[index] || []
    if (mine.length > 0) jobs.set(id, { names: mine, hashes: mine.map(name => createHash(name)) })
  } else if (op === L.OP_DATA) {
    const job = jobs.get(id)
    if (job) for (const hash of job.hashes) hash.update(payload)
  } else if (op === L.OP_FINISH || op === L.OP_CANCEL) {
    const job = jobs.get(id)
    jobs.delete(id)
    if (job && op === L.OP_FINISH) {
      const digests = {}
      job.names.forEach((name, i) => (digests[name] = job.hashes[i].digest('hex')))
      parentPort.postMessage({ id, digests })
    }
  }
  read = (read + size) >>> 0
  Atomics.store(ctl, L.READ + index, read | 0)
  // A waiting writer is woken once a good share of the ring is free, not for every frame.
  if (
    Atomics.load(ctl, L.WRITER_ASLEEP) &&
    ((read - told) >>> 0 >= bytes.length / 4 || read === Atomics.load(ctl, L.WRITE) >>> 0)
  ) {
    told = read
    Atomics.notify(ctl, L.READ + index)
  }
}
`
