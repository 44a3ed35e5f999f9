/**
 * The floor of a verified download on this machine (bench case 10, bench/cases/verified-cpu.ts): one GET on a
 * socket of its own (`net.connect` / `tls.connect` with `onread` into one reused 1 MiB buffer),
 * each chunk written with `fs.writeSync` at its offset, and the MD5 and sha256 of the body computed
 * from the receive buffer, nothing else. Plain JavaScript, written to the scratch directory as an .mjs file so that it can
 * start itself as a worker.
 *
 *   node floor-ring.mjs URL FILE MODE
 *
 * MODE: `none` (no digest), `inline` (both digests on the socket thread), `ring1` (each chunk
 * copied once, by memcpy (Buffer#fill), into a SharedArrayBuffer ring that one worker thread
 * hashes with both digests; a side only wakes the other when it sleeps, readers once 256 KiB is
 * in),
 * `ring2` (the same ring read by two threads, MD5 on one and sha256 on the other). Prints one line
 * of JSON: wall ms from start to the digests, CPU ms of the process (all threads), peak RSS, MD5.
 */
export const FLOOR_RING_SCRIPT = String.raw`// Written by bench/cases/verified-cpu.ts: the floor of a verified download (see bench/floor-ring.ts).
import { createHash } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

const MiB = 1 << 20
const RING = 8 * MiB
// Control words: [0] bytes written in all, [1] the body's length (-1 until known), [2 + k] bytes
// reader k has hashed.
const WRITTEN = 0
const TOTAL = 1
const READ = 2

function fail(message) {
  process.stderr.write('floor: ' + message + '\n')
  process.exit(1)
}

function download() {
  const started = performance.now()
  const [url, file, mode = 'none'] = process.argv.slice(2)
  const target = new URL(url)
  const fd = openSync(file, 'w')
  const readers =
    mode === 'ring1' ? [['md5', 'sha256']] : mode === 'ring2' ? [['md5'], ['sha256']] : []
  const inline = mode === 'inline' ? [createHash('md5'), createHash('sha256')] : []
  const ring = new SharedArrayBuffer(RING)
  const bytes = Buffer.from(ring)
  const ctl = new Float64Array(new SharedArrayBuffer(8 * (READ + readers.length)))
  // [0] bumped to wake readers, [1] to wake the writer, [2] readers asleep, [3] writer asleep.
  const wake = new Int32Array(new SharedArrayBuffer(16))
  ctl[TOTAL] = -1
  const digests = {}
  let pending = readers.length
  const workers = readers.map(
    (names, index) =>
      new Worker(new URL(import.meta.url), {
        workerData: { names, index, ring, ctl: ctl.buffer, wake: wake.buffer }
      })
  )
  const done = () => {
    const cpu = process.cpuUsage()
    const out = {
      ms: Math.round(performance.now() - started),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      rssMiB: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      md5: digests.md5
    }
    if (mode !== 'none' && digests.md5 !== etag)
      fail('MD5 ' + digests.md5 + ' but the ETag says ' + etag)
    process.stdout.write(JSON.stringify(out) + '\n')
    process.exit(0)
  }
  for (const worker of workers) {
    worker.on('message', reply => {
      Object.assign(digests, reply)
      if (--pending === 0) done()
    })
  }
  // Copies a chunk into the ring, waiting (blocking) for the slowest reader when it is full.
  let written = 0
  let told = 0
  const slowestRead = () => {
    let slowest = Infinity
    for (let k = 0; k < readers.length; k++) slowest = Math.min(slowest, ctl[READ + k])
    return slowest
  }
  const feed = chunk => {
    for (let from = 0; from < chunk.length;) {
      const room = RING - (written - slowestRead())
      if (room === 0) {
        const seq = Atomics.load(wake, 1)
        Atomics.store(wake, 3, 1)
        if (RING - (written - slowestRead()) === 0) Atomics.wait(wake, 1, seq, 5)
        Atomics.store(wake, 3, 0)
        continue
      }
      const at = written % RING
      const n = Math.min(chunk.length - from, room, RING - at)
      bytes.fill(chunk.subarray(from, from + n), at, at + n)
      from += n
      written += n
      ctl[WRITTEN] = written
      if (Atomics.load(wake, 2) > 0 && written - told >= 256 * 1024) {
        told = written
        Atomics.add(wake, 0, 1)
        Atomics.notify(wake, 0)
      }
    }
  }
  let head = Buffer.alloc(0)
  let total = -1
  let onDisk = 0
  let etag
  const onRead = (n, buffer) => {
    let body = buffer.subarray(0, n)
    if (total < 0) {
      head = Buffer.concat([head, body])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      const text = head.subarray(0, end).toString('latin1')
      if (!/^HTTP\/1\.[01] 200 /.test(text)) fail(text.split('\r\n')[0])
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)
      if (!length) fail('no Content-Length')
      etag = /\r\netag: *"?([0-9a-f]{32})"?\r?$/im.exec(text)?.[1]
      total = Number(length[1])
      body = head.subarray(end + 4)
    }
    if (body.length > 0) {
      onDisk += writeSync(fd, body, 0, body.length, onDisk)
      for (const hash of inline) hash.update(body)
      if (readers.length > 0) feed(body)
    }
    if (onDisk < total) return
    socket.destroy()
    closeSync(fd)
    if (inline.length > 0) {
      digests.md5 = inline[0].digest('hex')
      digests.sha256 = inline[1].digest('hex')
    }
    if (readers.length === 0) return done()
    ctl[TOTAL] = total
    Atomics.add(wake, 0, 1)
    Atomics.notify(wake, 0)
  }
  const secure = target.protocol === 'https:'
  const socket = (secure ? tlsConnect : netConnect)({
    host: target.hostname,
    port: Number(target.port) || (secure ? 443 : 80),
    onread: { buffer: Buffer.allocUnsafe(MiB), callback: onRead }
  })
  socket.on('error', error => fail(error.message))
  socket.on('end', () => {
    if (total < 0 || onDisk < total) fail('the connection ended after ' + onDisk + ' bytes')
  })
  const request = 'GET ' + target.pathname + target.search + ' HTTP/1.1\r\n'
  socket.write(request + 'Host: ' + target.host + '\r\nConnection: close\r\n\r\n')
}

function hash() {
  const { names, index, ring, ctl: ctlBuffer, wake: wakeBuffer } = workerData
  const bytes = new Uint8Array(ring)
  const ctl = new Float64Array(ctlBuffer)
  const wake = new Int32Array(wakeBuffer)
  const hashes = names.map(name => createHash(name))
  let read = 0
  for (;;) {
    const seen = Atomics.load(wake, 0)
    const written = ctl[WRITTEN]
    while (read < written) {
      const at = read % RING
      const n = Math.min(written - read, RING - at, MiB)
      const chunk = bytes.subarray(at, at + n)
      for (const h of hashes) h.update(chunk)
      read += n
      ctl[READ + index] = read
      if (Atomics.load(wake, 3)) {
        Atomics.add(wake, 1, 1)
        Atomics.notify(wake, 1)
      }
    }
    if (ctl[TOTAL] >= 0 && read >= ctl[TOTAL]) break
    Atomics.add(wake, 2, 1)
    if (ctl[WRITTEN] === read && ctl[TOTAL] < 0) Atomics.wait(wake, 0, seen, 50)
    Atomics.sub(wake, 2, 1)
  }
  const out = {}
  names.forEach((name, i) => (out[name] = hashes[i].digest('hex')))
  parentPort.postMessage(out)
}

if (isMainThread) download()
else hash()
`
