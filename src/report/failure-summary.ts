import { formatBytes } from '../support/format.js'
import { inert } from './summary.js'

/** The stages of a run, in order, as a failure summary names them. */
export const Stages = {
  inputs: 'validating the inputs',
  create: 'creating the download',
  wait: 'waiting for the download',
  download: 'downloading the files',
  deliver: 'delivering the files',
  report: 'reporting'
} as const
export type Stage = keyof typeof Stages

/**
 * How far a run got, kept up to date by the pipeline as it goes, so that a failure (which carries
 * only its message) can still be summarised with the request and the files already done.
 */
export interface RunState {
  stage: Stage
  requestId: string | undefined
  status: string | undefined
  filesTotal: number | undefined
  filesDone: number
  bytesDone: number
  downloadPath: string | undefined
}

export function newRunState(): RunState {
  return {
    stage: 'inputs',
    requestId: undefined,
    status: undefined,
    filesTotal: undefined,
    filesDone: 0,
    bytesDone: 0,
    downloadPath: undefined
  }
}

/**
 * The job summary of a failed run. `message` is the run's final failure line, already stripped of
 * every secret (finalMessage); everything here is escaped, as it may quote a server.
 */
export function renderFailureSummary(state: RunState, message: string): string {
  const id = state.requestId === undefined ? '' : ` ${inert(state.requestId)}`
  const lines = [
    `### Datafiniti download${id}: failed while ${Stages[state.stage]}`,
    '',
    ...message.split('\n').map(line => `> ${inert(line)}`),
    ''
  ]
  const facts: string[] = []
  if (state.status !== undefined) facts.push(`Last status: ${inert(state.status)}`)
  if (state.filesTotal !== undefined) {
    const kept =
      state.filesDone > 0 && state.downloadPath !== undefined
        ? `, kept in ${inert(state.downloadPath)}`
        : ''
    facts.push(
      `${state.filesDone} of ${state.filesTotal} file(s) downloaded and verified ` +
        `(${formatBytes(state.bytesDone)})${kept}`
    )
  }
  if (facts.length > 0) lines.push(facts.join(' · '), '')
  return lines.join('\n') + '\n'
}
