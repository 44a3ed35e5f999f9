import type { Artifacts } from './deliver/artifact.js'
import type { RequestMemory } from './api/create-once.js'
import type { MarkStore } from './api/marks.js'
import type { Transport } from './http/transport.js'
import type { Clock } from './support/clock.js'
import type { Runner } from './support/log.js'
import type { Hasher } from './transfer/digest.js'
import type { Disk } from './transfer/job.js'

/**
 * Every side effect the pipeline has, as one object: main.ts builds the real one from the runner,
 * and tests pass plain objects. Each port's type is declared by the module that uses it.
 */
export interface Ports {
  http: Transport
  clock: Clock
  runner: Runner
  artifacts: Artifacts
  /** Remembers created download requests across attempts of a run. */
  memory: RequestMemory
  /** Where `since: last-success` reads and leaves its mark. */
  marks: MarkStore
  /** Aborts when the job is cancelled. */
  signal: AbortSignal
  disk: Disk
  /** Hashing threads for the files' MD5 and sha256. */
  hasher: Hasher
}
