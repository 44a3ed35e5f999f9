/**
 * Which known query a query text asks for, and which of its records match: Datafiniti accepts date
 * ranges on record fields ANDed onto a query (`categories:cosmetics AND dateUpdated:[2022-09-01
 * TO *]`, from its own guide), with the usual inclusive `[from TO to]` and `*` for an open end.
 * The ranges are peeled off the end of the text, then any parentheses around what is left, until a
 * known query remains.
 */
import { bufferBody } from './bodies.js'
import type { SimFile, SimOptions, SimQuery, SimRecord } from './types.js'

export interface Range {
  field: string
  from: string
  to: string
}

export interface Matched {
  spec: SimQuery | undefined
  ranges: Range[]
  /** The matching records, where the query has records. */
  records: SimRecord[] | undefined
  /** The text is no query the API would take (an unreadable range bound). */
  invalid?: string
}

const RANGE_AT_END = /^([\s\S]*\S)\s+AND\s+([A-Za-z][A-Za-z0-9_.]*):\[(\S+) TO (\S+)\]$/

export function matchQuery(options: SimOptions, text: string): Matched {
  const queries = options.queries ?? {}
  const ranges: Range[] = []
  let rest = text.trim()
  for (;;) {
    if (Object.hasOwn(queries, rest)) break
    const range = RANGE_AT_END.exec(rest)
    if (range) {
      ranges.unshift({ field: range[2] ?? '', from: range[3] ?? '*', to: range[4] ?? '*' })
      rest = (range[1] ?? '').trim()
      continue
    }
    const inner = unwrap(rest)
    if (inner === undefined) break
    rest = inner
  }
  const spec = Object.hasOwn(queries, rest) ? queries[rest] : undefined
  for (const range of ranges) {
    if (bound(range.from, 'from') === undefined || bound(range.to, 'to') === undefined) {
      return {
        spec,
        ranges,
        records: undefined,
        invalid: `Invalid date range ${range.field}:[${range.from} TO ${range.to}]`
      }
    }
  }
  const records = spec?.records?.filter(record => ranges.every(range => inRange(record, range)))
  return { spec, ranges, records }
}

/** What is inside one pair of parentheses around the whole text, or undefined. */
function unwrap(text: string): string | undefined {
  if (!text.startsWith('(') || !text.endsWith(')')) return undefined
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')') depth--
    // The first parenthesis closes before the end: `(a) OR (b)` is not wrapped.
    if (depth === 0 && i < text.length - 1) return undefined
  }
  return text.slice(1, -1).trim()
}

/** A range bound in ms: a date covers its whole day (an inclusive upper bound runs to its end). */
function bound(text: string, side: 'from' | 'to'): number | undefined {
  if (text === '*') return side === 'from' ? -Infinity : Infinity
  const value = Date.parse(text)
  if (Number.isNaN(value)) return undefined
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && side === 'to' ? value + 86_400_000 - 1 : value
}

function inRange(record: SimRecord, range: Range): boolean {
  const raw = (record as unknown as Record<string, unknown>)[range.field]
  if (typeof raw !== 'string') return false
  const value = Date.parse(raw)
  return value >= (bound(range.from, 'from') ?? NaN) && value <= (bound(range.to, 'to') ?? NaN)
}

/** One file of the records, as Datafiniti writes them: CSV with a header, or JSON lines. */
export function recordFiles(id: string, records: SimRecord[], format: string): SimFile[] {
  const json = format.toUpperCase() === 'JSON'
  const lines = json
    ? records.map(record => JSON.stringify(record))
    : [
        'id,name,dateAdded,dateUpdated',
        ...records.map(r => [r.id, r.name ?? '', r.dateAdded, r.dateUpdated].join(','))
      ]
  return [
    {
      name: `${id}_1.${json ? 'json' : 'csv'}`,
      body: bufferBody(Buffer.from(`${lines.join('\n')}\n`))
    }
  ]
}
