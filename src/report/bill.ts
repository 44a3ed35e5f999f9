import { Inputs } from '../domain/action-io.js'
import { formatCount } from '../support/format.js'
import { recordCount, totalRows, type RunReport } from './report.js'

const credits = (n: number): string => `${formatCount(n)} credit${n === 1 ? '' : 's'}`

/**
 * The summary's lines on what was counted, bought and paid, and on records against rows where the
 * two differ: Datafiniti counts and charges records, and a CSV without a flattening view spreads one
 * record's nested fields (categories, prices, …) over several rows.
 */
export function billLines(report: RunReport): string[] {
  const { bill } = report
  if (!bill) return []
  const lines: string[] = []
  const { count } = bill
  if (bill.wouldBuy !== undefined && count) {
    lines.push(
      `**Dry run**: the query matches **${formatCount(count.numFound)}** records; a real run would buy ` +
        `**${formatCount(bill.wouldBuy)}** of them. Nothing was bought.`
    )
  } else if (count) {
    lines.push(
      `Counted before buying: the query matched **${formatCount(count.numFound)}** records.`
    )
  }
  if (count?.cost !== undefined) lines.push(`The count cost ${credits(count.cost)}.`)
  const records = recordCount(report)
  if (bill.wouldBuy === undefined && (bill.records !== undefined || bill.cost !== undefined)) {
    const what =
      bill.records === undefined ? 'The download' : `**${formatCount(bill.records)}** records`
    const cost = bill.cost === undefined ? '' : ` for **${credits(bill.cost)}**`
    const whole = report.shard ? ' (the whole download, every shard together)' : ''
    lines.push(`Bought: ${what}${cost}${whole}, as Datafiniti counts them.`)
  }
  const rows = totalRows(report)
  if (rows !== undefined && bill.records !== undefined && rows !== (records ?? bill.records)) {
    lines.push(
      report.shard
        ? `This shard's files hold **${formatCount(rows)}** rows of the download's ${formatCount(bill.records)} records.`
        : `The files hold **${formatCount(rows)}** rows for ${formatCount(bill.records)} records: without a ` +
            `flattening '${Inputs.View}', Datafiniti's CSV spreads one record's nested fields over several rows.`
    )
  }
  return lines.length > 0 ? [...lines, ''] : []
}
