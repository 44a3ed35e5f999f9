import type { DatafinitiClient } from '../api/client.js'
import { Inputs, Outputs } from '../domain/action-io.js'
import type { MatchCount, QuerySpec } from '../domain/model.js'
import type { Budget } from '../inputs/budget.js'
import type { Ports } from '../ports.js'
import type { RunReport } from '../report/report.js'
import { noMatchesReport } from './download.js'
import { FatalError } from '../support/errors.js'
import { formatCount } from '../support/format.js'

/** Records a download of `spec` would buy out of `numFound` matches. */
export function wouldBuy(spec: QuerySpec, numFound: number): number {
  return spec.numRecords === 'all' ? numFound : Math.min(spec.numRecords, numFound)
}

/**
 * Whether the run must count before buying: a dry run always; `max-records` only when the download
 * could exceed it. A `num-records` at or below `max-records` caps the download already, so the
 * count (a call, and up to one record's cost) would change nothing.
 */
export function needsCount(spec: QuerySpec, budget: Budget): boolean {
  if (budget.dryRun) return true
  if (budget.maxRecords === undefined) return false
  return spec.numRecords === 'all' || spec.numRecords > budget.maxRecords
}

/** Why a download of `spec` is refused: it would buy more than `max-records`, and what to do. */
export function overBudget(spec: QuerySpec, numFound: number, maxRecords: number): string {
  const buys = wouldBuy(spec, numFound)
  const capped =
    buys < numFound
      ? ` ('${Inputs.NumRecords}' ${spec.numRecords} would buy ${formatCount(buys)})`
      : ''
  return (
    `The query matches ${formatCount(numFound)} records${capped}, more than '${Inputs.MaxRecords}' ` +
    `${formatCount(maxRecords)} allows: nothing was bought. Narrow the query, raise '${Inputs.MaxRecords}' ` +
    `to at least ${buys}, or set '${Inputs.NumRecords}: ${maxRecords}' to take only ${formatCount(maxRecords)} ` +
    `records on purpose.`
  )
}

/**
 * Counts the records `spec` matches, right before the download of exactly that spec is created, when
 * `max-records` or `dry-run` asks; fails, before anything is bought, when the download would exceed
 * `max-records` (a dry run only warns). Undefined when nothing was counted.
 */
export async function estimate(
  client: DatafinitiClient,
  spec: QuerySpec,
  budget: Budget,
  { runner }: Pick<Ports, 'runner'>
): Promise<MatchCount | undefined> {
  if (!needsCount(spec, budget)) {
    if (budget.maxRecords !== undefined) {
      runner.info(
        `'${Inputs.NumRecords}' ${spec.numRecords} is within '${Inputs.MaxRecords}' ${budget.maxRecords}: ` +
          `the download cannot exceed it, so the matches are not counted.`
      )
    }
    return undefined
  }
  return runner.group('Count matching records', async () => {
    const count = await client.countMatches(spec)
    // Set at once: a run refused below still tells the user how many records the query matches.
    runner.setOutput(Outputs.NumFound, String(count.numFound))
    const cost =
      count.cost === undefined ? '' : ` (the count cost ${formatCount(count.cost)} credit(s))`
    runner.info(
      `The query matches ${formatCount(count.numFound)} ${spec.dataType} records; a download would buy ` +
        `${formatCount(wouldBuy(spec, count.numFound))} of them${cost}`
    )
    const { maxRecords } = budget
    if (maxRecords !== undefined && wouldBuy(spec, count.numFound) > maxRecords) {
      const message = overBudget(spec, count.numFound, maxRecords)
      if (!budget.dryRun) throw new FatalError(message)
      runner.warning(`A run without '${Inputs.DryRun}' would fail: ${message}`)
    }
    return count
  })
}

/** A dry run: counts the matches of the spec a real run would create, and creates nothing. */
export async function dryRun(
  client: DatafinitiClient,
  spec: QuerySpec,
  budget: Budget,
  ports: Pick<Ports, 'runner'>,
  downloads: boolean
): Promise<RunReport> {
  const count = (await estimate(client, spec, { ...budget, dryRun: true }, ports)) ?? {
    numFound: 0,
    cost: undefined
  }
  ports.runner.info(`'${Inputs.DryRun}' is true: no download is created, nothing is bought.`)
  return {
    ...noMatchesReport(downloads),
    status: 'DRY RUN',
    bill: {
      count,
      records: undefined,
      cost: undefined,
      rowsAreRecords: false,
      wouldBuy: wouldBuy(spec, count.numFound)
    }
  }
}
