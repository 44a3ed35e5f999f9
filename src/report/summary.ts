import type { IntegrityCheck } from '../domain/model.js'
import { formatDuration } from '../support/format.js'
import { formatBytes, formatCount } from '../support/format.js'
import { safeText } from '../support/text.js'
import { billLines } from './bill.js'
import {
  describeShard,
  localFiles,
  recordCount,
  totalBytes,
  totalRows,
  type RunReport
} from './report.js'

/** Rows past this are summarised in one line: the job summary must stay far below GitHub's 1 MiB. */
export const SUMMARY_MAX_ROWS = 100

/** What each file's bytes were checked against, as the Check column says it. */
const CHECKS: Record<IntegrityCheck, string> = {
  md5: 'MD5',
  length: 'length',
  none: 'none'
}

/**
 * Text from outside (a status, an error, a file name, a request id, a host) as a code span: in
 * one, nothing is Markdown (no link, image, HTML, emphasis or bare-URL autolink), where escaping
 * each metacharacter would still leave GitHub's autolinks live. One line (a line break would end
 * the row or the heading); `cell`: a pipe is escaped as GFM tables want, inside spans too.
 */
export function inert(text: string, { cell = false } = {}): string {
  const line = safeText(text)
  if (line === '') return ''
  const safe = cell ? line.replace(/\|/g, '\\|') : line
  // A fence longer than any run of backticks inside; a space keeps one at either end apart.
  const longest = Math.max(0, ...Array.from(safe.matchAll(/`+/g), run => run[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = /^`|`$|^ .* $/.test(safe) ? ' ' : ''
  return `${fence}${pad}${safe}${pad}${fence}`
}

/** Our own text for a table cell or a heading: one line, no pipe, no HTML. */
function escapeCell(text: string): string {
  return safeText(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/[[\]]/g, '\\$&')
}

/**
 * The job summary as Markdown. Shows file names and hosts only: never the token, never a signed
 * URL's query.
 */
export function renderSummary(report: RunReport): string {
  const lines: string[] = []
  const records = recordCount(report)
  const rows = totalRows(report)
  const shard = report.shard ? `, ${describeShard(report.shard)}` : ''
  lines.push(
    `### Datafiniti download${report.requestId ? ` ${inert(report.requestId)}` : ''}${shard}: ${inert(report.status)}`,
    ''
  )
  // A dry run has no files to describe: what it counted is the whole story.
  if (report.bill?.wouldBuy !== undefined) return [...lines, ...billLines(report)].join('\n') + '\n'
  const facts = [
    `**${report.results.length}** file(s)`,
    report.downloads ? `**${formatBytes(totalBytes(report))}**` : undefined,
    records === undefined ? undefined : `**${formatCount(records)}** records`,
    rows === undefined || rows === records ? undefined : `**${formatCount(rows)}** rows`,
    `waited ${formatDuration(report.waitedMs)}`,
    report.downloads ? `downloaded in ${formatDuration(report.downloadMs)}` : undefined
  ].filter(Boolean)
  lines.push(facts.join(' · '), '')
  if (report.shard) {
    const { index, count, totalFiles } = report.shard
    lines.push(
      `Shard **${index}** of **${count}**: ${formatCount(report.results.length)} of the download's ` +
        `**${formatCount(totalFiles)}** result file(s); the other shards take the rest.`,
      ''
    )
  }
  if (report.window) {
    const { field, from, to } = report.window
    lines.push(
      `Window: records whose \`${escapeCell(field)}\` is on or after **${from.toISOString().slice(0, 10)}** ` +
        `(UTC), as of ${to.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      ''
    )
  }
  lines.push(...billLines(report))
  if (report.noResults !== undefined) {
    lines.push(`No results: ${inert(report.noResults)}`)
    return lines.join('\n') + '\n'
  }

  const expiry = (date: Date | undefined): string =>
    date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''
  const shown = report.results.slice(0, SUMMARY_MAX_ROWS)
  if (!report.downloads) {
    lines.push('| File | Host | Expires |', '| --- | --- | --- |')
    for (const result of shown) {
      const host = inert(new URL(result.url).host, { cell: true })
      lines.push(
        `| ${inert(result.name, { cell: true })} | ${host} | ${expiry(result.expiresAt)} |`
      )
    }
  } else {
    lines.push('| File | Size | Rows | Expires | Check |', '| --- | ---: | ---: | --- | --- |')
    for (const { local: file, expiresAt } of shown) {
      if (!file) continue
      const count = file.records === undefined ? '' : formatCount(file.records)
      const size = formatBytes(file.bytes)
      lines.push(
        `| ${inert(file.name, { cell: true })} | ${size} | ${count} | ${expiry(expiresAt)} | ${CHECKS[file.integrity]} |`
      )
    }
  }
  if (report.results.length > SUMMARY_MAX_ROWS) {
    const rest = localFiles(report).slice(SUMMARY_MAX_ROWS)
    const restBytes = rest.reduce((sum, file) => sum + file.bytes, 0)
    const detail = rest.length > 0 ? ` (${formatBytes(restBytes)})` : ''
    lines.push(
      '',
      `…and ${formatCount(report.results.length - SUMMARY_MAX_ROWS)} more file(s)${detail}: the \`files\` output lists them all.`
    )
  }
  lines.push('')
  if (report.expiresAt) {
    lines.push(
      `Result files expire at ${report.expiresAt.toISOString()} (7 days after Datafiniti made them).`
    )
  }
  if (!report.downloads) {
    lines.push(
      '',
      '> [!WARNING]',
      '> The `urls` output holds signed download links: anyone with one can fetch the file until it expires. Do not paste them anywhere public.'
    )
  }
  if (report.receipt) {
    const { kind, name, url, details } = report.receipt
    const link = url ? `[${escapeCell(name)}](${url})` : escapeCell(name)
    lines.push('', `${kind}: ${link} (${escapeCell(details)}).`)
  } else if (report.downloads) {
    lines.push('', `Files are in ${inert(report.downloadPath)}.`)
  }
  return lines.join('\n') + '\n'
}
