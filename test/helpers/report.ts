import { receiptOf } from '../../src/deliver/artifact-target.js'
import type { ArtifactResult } from '../../src/deliver/artifact.js'
import type { DownloadedFile, Mode } from '../../src/domain/model.js'
import type { RunReport } from '../../src/report/report.js'

/**
 * A RunReport from lists, as a test thinks of a run: `names[i]` came from `urls[i]` and expires at
 * `expiries[i]`; `files` are the copies on disk, matched to their result by name; `artifact`, with
 * `mode: 'artifact'`, is what the upload returned.
 */
export interface ReportLists {
  mode?: Mode
  urls: readonly string[]
  names: readonly string[]
  expiries?: readonly (Date | undefined)[]
  created?: readonly (Date | undefined)[]
  files?: readonly DownloadedFile[]
  artifact?: ArtifactResult | undefined
  artifactName?: string
}

export function reportOf(
  lists: ReportLists,
  rest: Omit<RunReport, 'results' | 'downloads' | 'receipt'>
): RunReport {
  const mode = lists.mode ?? 'files'
  const results = lists.names.map((name, i) => ({
    url: lists.urls[i] ?? '',
    name,
    expiresAt: lists.expiries?.[i],
    createdAt: lists.created?.[i],
    local: lists.files?.find(file => file.name === name)
  }))
  return {
    ...rest,
    downloads: mode !== 'urls',
    results,
    receipt:
      lists.artifact && mode === 'artifact'
        ? receiptOf(lists.artifactName ?? 'datafiniti-6073', lists.artifact)
        : undefined
  }
}
