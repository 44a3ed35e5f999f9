/**
 * The hashing thread's program (digest.ts), as source for `new Worker(…, { eval: true })`: the
 * bundle is one file, and a worker file beside it would have to be built and shipped apart. It
 * reads each file back from the page cache in 1 MiB blocks up to the frontier the downloader
 * reports, taking the files in turn, and answers `finish` with the hex digests (or the error).
 */
export const DIGEST_WORKER = String.raw`
'use strict'
const { parentPort } = require('node:worker_threads')
const { openSync, readSync, closeSync } = require('node:fs')
const { createHash } = require('node:crypto')
const buffer = Buffer.allocUnsafe(1024 * 1024)
const jobs = new Map()
let scheduled = false

function close(id) {
  const job = jobs.get(id)
  jobs.delete(id)
  if (job && job.fd !== undefined) closeSync(job.fd)
}

function fail(id, job, error) {
  job.error = job.error || String((error && error.message) || error)
  if (job.end !== undefined) {
    parentPort.postMessage({ id, error: job.error })
    close(id)
  }
}

function step() {
  scheduled = false
  let more = false
  for (const [id, job] of jobs) {
    if (job.error) {
      fail(id, job, job.error)
      continue
    }
    try {
      if (job.fed < job.frontier) {
        const length = Math.min(buffer.length, job.frontier - job.fed)
        const bytes = readSync(job.fd, buffer, 0, length, job.fed)
        if (bytes === 0) throw new Error('the file ended at ' + job.fed + ' while reading it back')
        const chunk = buffer.subarray(0, bytes)
        for (const hash of job.hashes) hash.update(chunk)
        job.fed += bytes
      }
      if (job.end !== undefined && job.fed >= job.end) {
        const digests = {}
        job.algorithms.forEach((name, i) => (digests[name] = job.hashes[i].digest('hex')))
        parentPort.postMessage({ id, digests })
        close(id)
      } else if (job.fed < job.frontier) {
        more = true
      }
    } catch (error) {
      fail(id, job, error)
    }
  }
  // One block per file per turn, so that new frontiers (messages) are seen between blocks.
  if (more) schedule()
}

function schedule() {
  if (scheduled) return
  scheduled = true
  setImmediate(step)
}

parentPort.on('message', message => {
  const { op, id } = message
  if (op === 'open') {
    const job = { algorithms: message.algorithms, fed: 0, frontier: 0, end: undefined }
    jobs.set(id, job)
    try {
      job.hashes = message.algorithms.map(name => createHash(name))
      job.fd = openSync(message.path, 'r')
    } catch (error) {
      job.error = String(error.message)
    }
    return
  }
  const job = jobs.get(id)
  if (!job) return
  if (op === 'cancel') return close(id)
  if (op === 'advance') job.frontier = Math.max(job.frontier, message.frontier)
  if (op === 'finish') job.frontier = job.end = message.bytes
  schedule()
})
`
