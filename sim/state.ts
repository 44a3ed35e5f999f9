/**
 * The state the simulator's roles share: the v3 and v4 APIs serve the same requests, and the file
 * host serves the files their answers sign URLs for.
 */
import type {
  CreatedDownload,
  LoggedRequest,
  SimFile,
  SimOptions,
  SimRequest,
  Simulator
} from './types.js'

export type ApiVersion = CreatedDownload['version']

export interface SimState {
  readonly options: SimOptions
  readonly started: Date
  /** Requests by id as a string, the scripted ones and those created from queries. */
  readonly requests: Map<string, SimRequest>
  readonly pollCounts: Map<string, number>
  /** Result answers so far by request id (v3's not-ready 404s count): they number URL generations. */
  readonly resultCalls: Map<string, number>
  readonly createCalls: Simulator['createCalls']
  readonly created: CreatedDownload[]
  readonly counts: Simulator['counts']
  nextV3Id: number
  readonly log: LoggedRequest[]
  readonly fileConnections: Simulator['fileConnections']
  /** Files by URL path, as signed URLs hand them out. */
  readonly filesByPath: Map<string, SimFile>
  /** Which `/results` answer (1, 2, …) handed out each signature. */
  readonly generationOf: Map<string, number>
  /** Known once the file host listens; URLs are only signed after that. */
  fileOrigin: string
}

export function createState(options: SimOptions): SimState {
  return {
    options,
    started: new Date(),
    requests: new Map(options.requests.map(r => [String(r.id), r])),
    pollCounts: new Map(),
    resultCalls: new Map(),
    createCalls: [],
    created: [],
    counts: [],
    nextV3Id: 90_001,
    log: [],
    fileConnections: { now: 0, max: 0, opened: 0 },
    filesByPath: new Map(),
    generationOf: new Map(),
    fileOrigin: ''
  }
}
