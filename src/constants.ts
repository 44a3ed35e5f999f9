/** Input and output names, defined once: action.yml, the code and the tests all use these. */
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
  ArtifactFallback: 'artifact-fallback'
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
  ExpiresAt: 'expires-at',
  ArtifactId: 'artifact-id',
  ArtifactUrl: 'artifact-url',
  ArtifactDigest: 'artifact-digest'
} as const

export const Modes = ['artifact', 'files', 'urls'] as const
export type Mode = (typeof Modes)[number]

export const ApiVersions = ['v3', 'v4'] as const
export type ApiVersion = (typeof ApiVersions)[number]

/** Data types a download can be created for; `people` exists in v4 only. */
export const DataTypes = {
  v3: ['products', 'businesses', 'properties'],
  v4: ['products', 'businesses', 'properties', 'people']
} as const
export type DataType = (typeof DataTypes)['v4'][number]

export const Formats = ['CSV', 'JSON'] as const
export type Format = (typeof Formats)[number]

export const Defaults = {
  ApiUrl: 'https://api.datafiniti.co',
  Mode: 'artifact' as Mode,
  ApiVersion: 'v3' as ApiVersion,
  Format: 'CSV' as Format,
  CompressionLevel: 6,
  PollInterval: '30s',
  WaitTimeout: '1h',
  Concurrency: 4,
  MaxRetries: 5,
  StallTimeout: '60s'
} as const

export const Limits = {
  MaxConcurrency: 64,
  MaxRetries: 20,
  /** Backoff of retries: full jitter under base * 2^(n-1), capped. */
  RetryBaseDelayMs: 1000,
  RetryMaxDelayMs: 30_000,
  MinRetentionDays: 1,
  MaxRetentionDays: 90,
  /** Result files expire this long after their `date_created`. */
  ResultLifetimeMs: 7 * 24 * 60 * 60 * 1000
} as const
