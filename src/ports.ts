import type { ArtifactOptions } from './deliver/artifact.js'
import type { ArtifactResult } from './domain/model.js'
import type { Clock } from './support/clock.js'
import type { Http } from './http/transport.js'
import type { Logger } from './support/log.js'
import type { Hasher } from './transfer/digest.js'

/**
 * Every side effect the pipeline has, as one object: main.ts builds the real one from the runner,
 * and tests pass plain objects.
 */
export interface Ports {
  http: Transport
  clock: Clock
  runner: Runner
  artifacts: Artifacts
  /** Remembers created download requests across attempts of a run. */
  memory: RequestMemory
  /** Aborts when the job is cancelled. */
  signal: AbortSignal
  disk: Disk
  /** Hashing threads for the files' MD5 and sha256; the process's shared ones when absent. */
  hasher?: Hasher
}

/** The file system the files are written to. */
export interface Disk {
  /** Bytes free where `dir` is or will be created; undefined when the file system does not say. */
  freeBytes: (dir: string) => Promise<number | undefined>
}

/** The workflow runner as the action sees it (@actions/core in production). */
export interface Runner extends Logger {
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  setOutput(name: string, value: string): void
  /** Masks a value in every later line of the job's log. */
  setSecret(secret: string): void
  /** Appends Markdown to the job summary; does nothing where there is none. */
  summary(markdown: string): Promise<void>
}

/** The workflow artifact service. */
export interface Artifacts {
  /** Why artifacts cannot be uploaded here, or undefined when they can. */
  blocker(): string | undefined
  /** The id of the artifact of this name already on the workflow run, or undefined. */
  find(name: string): Promise<number | undefined>
  /** Deletes the artifact of this name from the workflow run; returns its id. */
  remove(name: string): Promise<number>
  upload(
    name: string,
    files: readonly string[],
    rootDirectory: string,
    options: ArtifactOptions
  ): Promise<ArtifactResult>
}

/** Where a created request id outlives the attempt that created it (the Actions cache). */
export interface RequestMemory {
  /** Why nothing can be remembered here, or undefined when it can. */
  unavailable(): string | undefined
  /** The request id remembered under `key`, or undefined. */
  recall(key: string): Promise<string | undefined>
  remember(key: string, requestId: string): Promise<void>
}

/**
 * The API and the file hosts each get their own connections: a signed file URL never shares an
 * agent or a proxy tunnel with the API's token.
 */
export interface Transport {
  api: Http
  files: Http
}
