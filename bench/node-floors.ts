/**
 * The least a Node.js download can do, as scripts for `node`: floors the action is held to, so
 * that what it costs beyond them is its own. The first two are run by case 1 with `node -e`; the
 * last by case 7, as an .mjs file so that it can start itself as a worker.
 */

/**
 * The least any Node.js download can do: `http.get`, then each chunk written as it arrives, with
 * no counting, checks, retries or outputs. What the action costs beyond this is its own.
 */
export const MINIMAL_NODE = [
  "const fs = require('node:fs')",
  'const [url, file] = process.argv.slice(1)',
  "const fd = fs.openSync(file, 'w')",
  "require('node:http').get(url, res => {",
  "  res.on('data', chunk => fs.writeSync(fd, chunk))",
  "  res.on('end', () => fs.closeSync(fd))",
  '})'
].join('\n')

/** The same over `connections` byte ranges at once, each written at its offset. */
export const MINIMAL_NODE_RANGES = [
  "const fs = require('node:fs')",
  "const http = require('node:http')",
  'const [url, file, connections, size] = process.argv.slice(1)',
  "const fd = fs.openSync(file, 'w')",
  'const step = Math.ceil(Number(size) / Number(connections))',
  'let open = Number(connections)',
  'for (let start = 0; start < Number(size); start += step) {',
  '  let at = start',
  '  const range = `bytes=${start}-${Math.min(Number(size), start + step) - 1}`',
  '  http.get(url, { headers: { range } }, res => {',
  "    res.on('data', chunk => (at += fs.writeSync(fd, chunk, 0, chunk.length, at)))",
  "    res.on('end', () => --open || fs.closeSync(fd))",
  '  })',
  '}'
].join('\n')

/**
 * The least a Node.js client can do, as an .mjs file (so that it can start itself as a worker):
 * `net.connect` / `tls.connect` with `onread` into one reused 1 MiB buffer, a hand-written GET, the
 * response head parsed, and each chunk written with `fs.writeSync` at its offset. No streams, no
 * HTTP parser, no checks beyond the status and the length. With `md5` as third argument, a worker
 * thread reads the file back from the page cache as it grows and hashes it, and the MD5 must match
 * the ETag: the floor of a verified download on this platform. Plain JavaScript, no template
 * literals: it is kept here as a String.raw text.
 */
export const FLOOR_SCRIPT = String.raw`// Written by bench/node-floors.ts: the floor of a Node.js download (see there).
import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'

const MiB = 1 << 20

function fail(message) {
  process.stderr.write('floor: ' + message + '\n')
  process.exit(1)
}

function download() {
  const [url, file, mode] = process.argv.slice(2)
  const target = new URL(url)
  const fd = openSync(file, 'w')
  // [0] bytes on disk, [1] the body's length (-1 until the head is read): shared with the hasher.
  const shared = mode === 'md5' ? new BigInt64Array(new SharedArrayBuffer(16)) : undefined
  if (shared) shared[1] = -1n
  const hasher = shared && new Worker(new URL(import.meta.url), { workerData: { file, shared } })
  let head = Buffer.alloc(0)
  let total = -1
  let written = 0
  let told = 0
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
      if (shared) Atomics.store(shared, 1, BigInt(total))
      body = head.subarray(end + 4)
    }
    if (body.length > 0) written += writeSync(fd, body, 0, body.length, written)
    // Wake the hasher per MiB, not per chunk (TLS hands over 16 KiB records).
    if (shared && (written - told >= MiB || written >= total)) {
      Atomics.store(shared, 0, BigInt(written))
      Atomics.notify(shared, 0)
      told = written
    }
    if (written < total) return
    socket.destroy()
    closeSync(fd)
    hasher?.once('message', md5 => {
      if (md5 !== etag) fail('MD5 ' + md5 + ' but the ETag says ' + etag)
      process.stdout.write(md5 + '  ' + file + '\n')
    })
  }
  const secure = target.protocol === 'https:'
  const socket = (secure ? tlsConnect : netConnect)({
    host: target.hostname,
    port: Number(target.port) || (secure ? 443 : 80),
    onread: { buffer: Buffer.allocUnsafe(MiB), callback: onRead }
  })
  socket.on('error', error => fail(error.message))
  socket.on('end', () => {
    if (total < 0 || written < total) fail('the connection ended after ' + written + ' bytes')
  })
  const request = 'GET ' + target.pathname + target.search + ' HTTP/1.1\r\n'
  socket.write(request + 'Host: ' + target.host + '\r\nConnection: close\r\n\r\n')
}

function hash() {
  const { file, shared } = workerData
  const fd = openSync(file, 'r')
  const md5 = createHash('md5')
  const buffer = Buffer.allocUnsafe(MiB)
  let at = 0
  for (;;) {
    const ready = Number(Atomics.load(shared, 0))
    while (at < ready) {
      const n = readSync(fd, buffer, 0, Math.min(MiB, ready - at), at)
      md5.update(buffer.subarray(0, n))
      at += n
    }
    const total = Atomics.load(shared, 1)
    if (total >= 0n && at >= Number(total)) break
    Atomics.wait(shared, 0, BigInt(ready))
  }
  closeSync(fd)
  parentPort.postMessage(md5.digest('hex'))
}

if (isMainThread) download()
else hash()
`
