import type { IntegrityCheck } from '../domain/model.js'
import { formatDuration } from '../support/format.js'
import { formatBytes, formatCount } from '../support/format.js'
import { safeText } from '../support/text.js'
import { describeShard, totalBytes, totalRecords, type RunReport } from './report.js'

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
export function escapeCell(text: string): string {
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
  const records = totalRecords(report)
  const shard = report.shard ? `, ${describeShard(report.shard)}` : ''
  lines.push(
    `### Datafiniti download${report.requestId ? ` ${inert(report.requestId)}` : ''}${shard}: ${inert(report.status)}`,
    ''
  )
  const facts = [
    `**${report.urls.length}** file(s)`,
    report.mode === 'urls' ? undefined : `**${formatBytes(totalBytes(report))}**`,
    records === undefined ? undefined : `**${formatCount(records)}** records`,
    `waited ${formatDuration(report.waitedMs)}`,
    report.mode === 'urls' ? undefined : `downloaded in ${formatDuration(report.downloadMs)}`
  ].filter(Boolean)
  lines.push(facts.join(' · '), '')
  if (report.shard) {
    const { index, count, totalFiles } = report.shard
    lines.push(
      `Shard **${index}** of **${count}**: ${formatCount(report.urls.length)} of the download's ` +
        `**${formatCount(totalFiles)}** result file(s); the other shards take the rest.`,
      ''
    )
  }
  if (report.noResults !== undefined) {
    lines.push(`No results: ${inert(report.noResults)}`)
    return lines.join('\n') + '\n'
  }

  const expiry = (i: number): string => {
    const date = report.expiries[i]
    return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''
  }
  if (report.mode === 'urls') {
    lines.push('| File | Host | Expires |', '| --- | --- | --- |')
    report.urls.slice(0, SUMMARY_MAX_ROWS).forEach((url, i) => {
      const host = inert(new URL(url).host, { cell: true })
      lines.push(`| ${inert(report.names[i] ?? '', { cell: true })} | ${host} | ${expiry(i)} |`)
    })
  } else {
    lines.push('| File | Size | Records | Expires | Check |', '| --- | ---: | ---: | --- | --- |')
    report.files.slice(0, SUMMARY_MAX_ROWS).forEach((file, i) => {
      const count = file.records === undefined ? '' : formatCount(file.records)
      const size = formatBytes(file.bytes)
      lines.push(
        `| ${inert(file.name, { cell: true })} | ${size} | ${count} | ${expiry(i)} | ${CHECKS[file.integrity]} |`
      )
    })
  }
  if (report.urls.length > SUMMARY_MAX_ROWS) {
    const rest = report.files.slice(SUMMARY_MAX_ROWS)
    const restBytes = rest.reduce((sum, file) => sum + file.bytes, 0)
    const detail = rest.length > 0 ? ` (${formatBytes(restBytes)})` : ''
    lines.push(
      '',
      `…and ${formatCount(report.urls.length - SUMMARY_MAX_ROWS)} more file(s)${detail}: the \`files\` output lists them all.`
    )
  }
  lines.push('')
  if (report.expiresAt) {
    lines.push(
      `Result files expire at ${report.expiresAt.toISOString()} (7 days after Datafiniti made them).`
    )
  }
  if (report.mode === 'urls') {
    lines.push(
      '',
      '> [!WARNING]',
      '> The `urls` output holds signed download links: anyone with one can fetch the file until it expires. Do not paste them anywhere public.'
    )
  }
  if (report.artifact) {
    const name = escapeCell(report.artifactName)
    const link = report.artifact.url ? `[${name}](${report.artifact.url})` : name
    const size =
      report.artifact.size === undefined ? '' : `, ${formatBytes(report.artifact.size)} zipped`
    lines.push('', `Artifact: ${link} (id ${report.artifact.id}${size}).`)
  } else if (report.mode !== 'urls') {
    lines.push('', `Files are in ${inert(report.downloadPath)}.`)
  }
  return lines.join('\n') + '\n'
}
