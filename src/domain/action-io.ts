/**
 * The action's interface, defined once: action.yml, the code and the tests all use these names, and
 * a test fails when action.yml and this file disagree.
 */
export const Inputs = {
  Token: 'token',
  RequestId: 'request-id',
  ApiUrl: 'api-url',
  Mode: 'mode',
  Path: 'path',
  ArtifactName: 'artifact-name',
  RetentionDays: 'retention-days',
  CompressionLevel: 'compression-level',
  PollInterval: 'poll-interval',
  WaitTimeout: 'wait-timeout',
  Concurrency: 'concurrency',
  MaxRetries: 'max-retries',
  StallTimeout: 'stall-timeout',
  ApiVersion: 'api-version',
  Query: 'query',
  DataType: 'data-type',
  Format: 'format',
  NumRecords: 'num-records',
  View: 'view',
  ArtifactFallback: 'artifact-fallback',
  IfNoResults: 'if-no-results',
  Overwrite: 'overwrite',
  ReuseRequest: 'reuse-request',
  Shard: 'shard',
  MaxRecords: 'max-records',
  DryRun: 'dry-run',
  Since: 'since',
  SinceField: 'since-field',
  GithubToken: 'github-token'
} as const

export const Outputs = {
  RequestId: 'request-id',
  Status: 'status',
  Urls: 'urls',
  Files: 'files',
  DownloadPath: 'download-path',
  FileCount: 'file-count',
  TotalBytes: 'total-bytes',
  RecordCount: 'record-count',
  RowCount: 'row-count',
  NumFound: 'num-found',
  Credits: 'credits',
  ExpiresAt: 'expires-at',
  ArtifactId: 'artifact-id',
  ArtifactUrl: 'artifact-url',
  ArtifactDigest: 'artifact-digest',
  Manifest: 'manifest',
  ArtifactName: 'artifact-name',
  Shard: 'shard',
  DownloadFileCount: 'download-file-count',
  Since: 'since'
} as const

/**
 * Environment variables the action reads besides its inputs, as the toolkit's
 * `ACTIONS_ARTIFACT_UPLOAD_CONCURRENCY`: knobs for the rare runner that needs them.
 */
export const Environment = {
  /** `false`: every file request through @actions/http-client, never the direct socket reader. */
  DirectDownloads: 'DATAFINITI_DIRECT_DOWNLOADS'
} as const

/** The runner passes input `foo-bar` as env `INPUT_FOO-BAR` (spaces become `_`, hyphens stay). */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/** The environment the action reads: its inputs (`INPUT_*`) and the runner's variables. */
export type Env = Record<string, string | undefined>
