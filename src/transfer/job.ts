import type { DownloadedFile, IntegrityCheck, PlannedFile, Shard } from '../domain/model.js'
import type { Clock } from '../support/clock.js'
import { isTransient } from '../support/errors.js'
import type { Http } from '../http/transport.js'
import type { Logger } from '../support/log.js'
import { logRetry, withRetry, type RetryPolicy } from '../support/retry.js'
import { defaultHasher, type Hasher } from './digest.js'
import type { Remote } from './file-host.js'
import type { Slots } from './slots.js'

/** Files at least this large, on hosts that serve ranges, download as parallel parts. */
export const DEFAULT_SPLIT_THRESHOLD = 64 * 1024 * 1024

export interface DownloadOptions {
  dir: string
  concurrency: number
  http: Http
  clock: Clock
  /** Per file, and again per ranged part. */
  policy: RetryPolicy
  /** A transfer with no bytes for this long is dropped and retried. */
  stallTimeoutMs: number
  log: Logger
  signal?: AbortSignal
  /**
   * Fresh signed URLs for every file, in the same order, for when the file host refuses one
   * (expired). Called at most once per run, however many files are refused.
   */
  refreshUrls?: () => Promise<string[]>
  /** Called with every chunk's size, for progress reports (negative when bytes are discarded). */
  onBytes?: (bytes: number) => void
  /** Called once per file when its size is known. */
  onSize?: (bytes: number) => void
  /** Called as each file is complete and verified, for a failure to say how far the run got. */
  onFile?: (file: DownloadedFile) => void
  /** Computes each file's MD5 and sha256 as it lands (default: hashing threads, digest.ts). */
  hasher?: Hasher
  /**
   * Bytes per second above which a first connection takes a large file alone (pace.ts; default
   * 192 MiB/s); Infinity always splits.
   */
  singleStreamAbove?: number
  /** Size from which a file is fetched as parallel ranges (default 64 MiB). */
  splitThreshold?: number
  /** Check the disk space before the first byte (preflight.ts), and how to advise on a shortage. */
  space?: SpaceCheck
  /**
   * Files whose copy on disk the disk preflight already checked, by name: the verified copy, or
   * undefined when it must be downloaded. These are not probed nor checked again.
   */
  checked?: ReadonlyMap<string, DownloadedFile | undefined>
  /**
   * What an earlier run verified of the files it left in `dir`, by file name (its manifest): a
   * re-run keeps a local copy only when it is still exactly what was verified then.
   */
  previous?: ReadonlyMap<string, VerifiedRecord>
}

export interface SpaceCheck {
  /** Bytes free where `dir` is or will be (the disk port), or undefined when unknown. */
  freeBytes: (dir: string) => Promise<number | undefined>
  /** This job's shard, and the whole download's file count: for the advice on splitting it. */
  shard: Shard | undefined
  totalFiles: number
}

/** A file as it was when it was written and verified. */
export interface VerifiedRecord {
  bytes: number
  etag: string | undefined
  sha256: string
  integrity: IntegrityCheck
}

/**
 * One file's download as every attempt at it, whole or in ranged parts, sees it: the one context
 * type of the transfer core.
 */
export interface Job {
  /** Its URL changes when the host refused the old one and /results gave a fresh one. */
  file: PlannedFile
  target: string
  /** `<target>.part`, where the bytes land until the file is complete and verified. */
  part: string
  remote: Remote
  options: DownloadOptions
  signal: AbortSignal
  /** Every connection, to whichever file or part, holds one of these. */
  slots: Slots
  /** The file's place in the list: earlier files get free connections first. */
  priority: number
  progress: FileProgress
  /** The sha256 of the last whole copy nothing could vouch for: the next must match it. */
  unconfirmed?: string
}

/**
 * Bytes of one file reported to onBytes and still counted: taken back when the file restarts, so
 * progress counts what is on disk.
 */
export class FileProgress {
  private reported = 0
  private sized = false

  constructor(private readonly options: Pick<DownloadOptions, 'onBytes' | 'onSize'>) {}

  add = (bytes: number): void => {
    this.reported += bytes
    this.options.onBytes?.(bytes)
  }

  /** The file now has `offset` bytes on disk, whatever was reported before. */
  restartAt(offset: number): void {
    if (this.reported !== offset) this.add(offset - this.reported)
  }

  /** The file's size goes into the progress total once, however often it restarts. */
  size(total: number | undefined): void {
    if (total === undefined || this.sized) return
    this.sized = true
    this.options.onSize?.(total)
  }
}

let shared: Hasher | undefined

/** The options' hasher, or the process's hashing threads, started on first use. */
export function hasherOf(options: Pick<DownloadOptions, 'hasher'>): Hasher {
  if (options.hasher) return options.hasher
  shared ??= defaultHasher()
  return shared
}

/** Runs one transfer step with the job's retry policy, naming it in each retry's log line. */
export function retried<T>(
  job: Job,
  signal: AbortSignal,
  what: () => string,
  fn: () => Promise<T>,
  transient: (error: unknown) => boolean = isTransient
): Promise<T> {
  const { policy, clock, log } = job.options
  return withRetry(fn, {
    ...policy,
    clock,
    signal,
    isTransient: error => !signal.aborted && transient(error),
    onRetry: logRetry(log, what)
  })
}
