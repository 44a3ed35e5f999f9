import type { DownloadedFile, PlannedFile, Shard, VerifiedCopy } from '../domain/model.js'
import type { Clock } from '../support/clock.js'
import { isTransient } from '../support/errors.js'
import type { Http } from '../http/transport.js'
import type { Logger } from '../support/log.js'
import { logRetry, withRetry, type RetryPolicy } from '../support/retry.js'
import type { Hasher } from './digest.js'
import type { Remote } from './file-host.js'
import type { Slots } from './slots.js'

/** Files at least this large, on hosts that serve ranges, download as parallel parts. */
export const DEFAULT_SPLIT_THRESHOLD = 64 * 1024 * 1024

/**
 * What every transfer of a run shares, set once by the caller: where the files go, how they are
 * fetched and checked, and what is on disk already.
 */
export interface TransferContext {
  dir: string
  concurrency: number
  http: Http
  clock: Clock
  /** Per file, and again per ranged part. */
  policy: RetryPolicy
  /** A transfer with no bytes for this long is dropped and retried. */
  stallTimeoutMs: number
  log: Logger
  signal: AbortSignal
  /** Computes each file's MD5 and sha256 as it lands (digest.ts); its owner disposes of it. */
  hasher: Hasher
  /**
   * Bytes per second above which a first connection takes a large file alone (pace.ts; default
   * 192 MiB/s); Infinity always splits.
   */
  singleStreamAbove?: number
  /** Size from which a file is fetched as parallel ranges (default 64 MiB). */
  splitThreshold?: number
  /** Check the disk space before the first byte (disk-space.ts), and how to advise on a shortage. */
  space?: SpaceCheck
  /**
   * What an earlier run verified of the files it left in `dir`, by file name (its manifest): a
   * re-run keeps a local copy only when it is still exactly what was verified then.
   */
  previous?: ReadonlyMap<string, VerifiedCopy>
}

/** What the caller hears, and may be asked, as the files come in. */
export interface TransferHooks {
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
}

/** The file system the files are written to (the disk port). */
export interface Disk {
  /** Bytes free where `dir` is or will be created; undefined when the file system does not say. */
  freeBytes: (dir: string) => Promise<number | undefined>
}

export interface SpaceCheck {
  /** Where the files go (the disk port). */
  disk: Disk
  /** This job's shard, and the whole download's file count: for the advice on splitting it. */
  shard: Shard | undefined
  totalFiles: number
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
  context: TransferContext
  hooks: TransferHooks
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

  constructor(private readonly hooks: Pick<TransferHooks, 'onBytes' | 'onSize'>) {}

  add = (bytes: number): void => {
    this.reported += bytes
    this.hooks.onBytes?.(bytes)
  }

  /** The file now has `offset` bytes on disk, whatever was reported before. */
  restartAt(offset: number): void {
    if (this.reported !== offset) this.add(offset - this.reported)
  }

  /** The file's size goes into the progress total once, however often it restarts. */
  size(total: number | undefined): void {
    if (total === undefined || this.sized) return
    this.sized = true
    this.hooks.onSize?.(total)
  }
}

/** Runs one transfer step with the job's retry policy, naming it in each retry's log line. */
export function retried<T>(
  job: Job,
  signal: AbortSignal,
  what: () => string,
  fn: () => Promise<T>,
  transient: (error: unknown) => boolean = isTransient
): Promise<T> {
  const { policy, clock, log } = job.context
  return withRetry(fn, {
    ...policy,
    clock,
    signal,
    isTransient: error => !signal.aborted && transient(error),
    onRetry: logRetry(log, what)
  })
}
