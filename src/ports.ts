import type { ArtifactOptions } from './deliver/artifact.js'
import type { ArtifactResult } from './domain/download.js'
import type { Clock } from './support/clock.js'
import type { Http } from './support/http.js'
import type { Logger } from './support/log.js'

/**
 * Every side effect the pipeline has, as one object: main.ts builds the real one from the runner,
 * and tests pass plain objects.
 */
export interface Ports {
  http: Http
  clock: Clock
  runner: Runner
  artifacts: Artifacts
  /** Aborts when the job is cancelled. */
  signal: AbortSignal
  disk: Disk
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
  upload(
    name: string,
    files: readonly string[],
    rootDirectory: string,
    options: ArtifactOptions
  ): Promise<ArtifactResult>
}
