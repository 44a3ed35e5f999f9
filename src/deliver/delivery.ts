import type { Mode, Receipt, Shard } from '../domain/model.js'
import type { Runner } from '../support/log.js'
import type { Artifacts } from './artifact.js'

/**
 * Where a run's result files go: one implementation per value of the `mode` input (targets.ts). The pipeline
 * calls these hooks in order and knows nothing else about any target.
 */
export interface Delivery {
  /** Whether the files are downloaded at all: a target that hands out URLs needs no bytes. */
  readonly downloads: boolean
  /**
   * Before any request: whatever would fail at the very end fails now. `requestId` is given when
   * the input names the download.
   */
  beforeCreate(requestId: string | undefined): Promise<void>
  /** Once the request id is known (created or given), before the wait. */
  beforeWait(requestId: string): Promise<void>
  /**
   * Once every file is on disk, verified, and the manifest written beside them. Undefined when the
   * files simply stay where they are.
   */
  deliver(shipment: Shipment): Promise<Receipt | undefined>
}

/** The hooks of a target that leaves the files where the download put them. */
export const IN_PLACE: Omit<Delivery, 'downloads'> = {
  beforeCreate: () => Promise.resolve(),
  beforeWait: () => Promise.resolve(),
  deliver: () => Promise.resolve(undefined)
}

/** The files of a finished download, as a target takes them. */
export interface Shipment {
  requestId: string
  /** Absolute paths: the result files, then the manifest. */
  paths: readonly string[]
  /** The download directory every path is under. */
  root: string
}

/** The settings a delivery target reads (a subset of the parsed inputs). */
export interface DeliverySettings {
  mode: Mode
  /** Empty for the default name, made from the request id. */
  artifactName: string
  shard: Shard | undefined
  overwrite: boolean
  artifactFallback: 'fail' | 'files'
  retentionDays: number | undefined
  compressionLevel: number
}

export interface DeliveryPorts {
  artifacts: Artifacts
  runner: Runner
}
