import { createHash, type Hash } from 'node:crypto'
import { DiskError } from '../support/errors.js'

/**
 * The MD5 and sha256 of a file, computed from the bytes as they are received, off the thread
 * that reads the sockets. MD5 runs at ~600 MiB/s on one core here (`md5sum`), slower than a local
 * download's ~2 GiB/s: on the socket thread it adds its whole time to a verified download, and
 * read back from the page cache by threads of their own it cost a second pass over every byte.
 */

export interface Digests {
  md5: string | undefined
  sha256: string
}

/** One file's digests in the making, fed its bytes in file order. */
export interface DigestJob {
  /** The file's next bytes; the chunk is copied at once, its memory may be reused after. */
  feed(chunk: Buffer): void
  /** Every one of the file's `bytes` was fed: the digests of exactly those bytes. */
  finish(bytes: number): Promise<Digests>
  /** Abandoned (the attempt failed). Safe after finish. */
  cancel(): void
}

export interface Hasher {
  open(md5: boolean): DigestJob
  /**
   * Files are coming: start the threads now, so that their start-up overlaps the work before
   * the first byte (the disk check's probes). They stop again if no file opens soon.
   */
  prepare(): void
  /** Stops its threads at once (the run is over); a later open starts them again. */
  dispose(): void
}

/** The same hashing on the calling thread: where no worker starts, and for comparison. */
export function inThreadHasher(): Hasher {
  return {
    open(md5) {
      const sha256 = createHash('sha256')
      const hash: Hash | undefined = md5 ? createHash('md5') : undefined
      let fed = 0
      return {
        feed(chunk) {
          sha256.update(chunk)
          hash?.update(chunk)
          fed += chunk.length
        },
        finish(bytes) {
          if (fed !== bytes) return Promise.reject(new DiskError(`hashed ${fed} bytes of ${bytes}`))
          return Promise.resolve({ md5: hash?.digest('hex'), sha256: sha256.digest('hex') })
        },
        cancel: () => undefined
      }
    },
    prepare: () => undefined,
    dispose: () => undefined
  }
}
