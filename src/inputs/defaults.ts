import type { ApiVersion, Format, Mode, NoResultsAction } from '../domain/model.js'

/** What an input is when it is not set, and the bounds of numeric inputs. */
export const Defaults = {
  ApiUrl: 'https://api.datafiniti.co',
  Mode: 'artifact' as Mode,
  ApiVersion: 'v3' as ApiVersion,
  Format: 'CSV' as Format,
  CompressionLevel: 1,
  PollInterval: '30s',
  WaitTimeout: '1h',
  Concurrency: 4,
  MaxRetries: 5,
  StallTimeout: '60s',
  IfNoResults: 'warn' as NoResultsAction,
  ArtifactFallback: 'fail',
  Overwrite: false,
  ReuseRequest: true,
  DryRun: false,
  SinceField: 'dateUpdated'
} as const

export const Limits = {
  MaxConcurrency: 64,
  MaxRetries: 20,
  MinRetentionDays: 1,
  // upload-artifact takes any positive number and the toolkit shortens it, with a warning, to the
  // repository's maximum; this bound only keeps the expiry a representable date.
  MaxRetentionDays: 100_000
} as const
