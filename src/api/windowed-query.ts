import type { QuerySpec } from '../domain/model.js'

const DAY_MS = 86_400_000

/** The start of the UTC day of a moment: the finest bound a Datafiniti date range is sure to take. */
export function dayStart(moment: Date): Date {
  return new Date(Math.floor(moment.getTime() / DAY_MS) * DAY_MS)
}

/** `2026-11-01`, as a range bound. */
export function dayText(moment: Date): string {
  return dayStart(moment).toISOString().slice(0, 10)
}

/**
 * The user's query limited to records whose `field` is on or after the UTC day of `from`:
 * `(USER QUERY) AND field:[YYYY-MM-DD TO *]`. The parentheses keep the query's meaning whatever it
 * holds (an `OR` would otherwise bind to the range). Day-granular, as Datafiniti documents ranges:
 * the window reaches back to the start of that day, so it overlaps the previous one by up to a day
 * and never leaves a gap.
 */
export function windowedQuery(spec: QuerySpec, field: string, from: Date): QuerySpec {
  return { ...spec, query: `(${spec.query}) AND ${field}:[${dayText(from)} TO *]` }
}
