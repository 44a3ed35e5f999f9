import { Inputs } from '../domain/action-io.js'
import type { Mark, MarkScope, Window, WindowSpec } from '../domain/window.js'
import { FatalError, errorMessage } from '../support/errors.js'
import { formatDuration } from '../support/format.js'
import type { Logger } from '../support/log.js'
import { redact } from '../support/secrets.js'
import { dayStart, dayText } from './windowed-query.js'

/**
 * Where the `last-success` mark lives (the marks port). The Actions cache is the fast path, but it
 * evicts an entry nobody read for 7 days; the durable copy (a small workflow artifact, 90 days by
 * default) is what a weekly or monthly schedule relies on.
 */
export interface MarkStore {
  /** Why the Actions cache cannot be used here, or undefined when it can. */
  cacheUnavailable(): string | undefined
  /** The newest mark the cache holds for this scope, or undefined. */
  fromCache(scope: MarkScope): Promise<Mark | undefined>
  /**
   * The newest mark the durable store holds, or undefined when it holds none. Throws when the store
   * cannot be read (no permission, no token, not a workflow run): then nothing is known.
   */
  fromDurable(scope: MarkScope): Promise<Mark | undefined>
  toCache(scope: MarkScope, mark: Mark): Promise<void>
  toDurable(scope: MarkScope, mark: Mark): Promise<void>
}

/**
 * The window of this run, or undefined for every match (no `since`, or a first `last-success` run).
 * `now` is when the run asks for its download: the window's end, and the next run's mark.
 */
export async function planWindow(
  spec: WindowSpec,
  store: MarkStore,
  now: Date,
  log: Logger
): Promise<Window | undefined> {
  const { since, field } = spec
  const window = (from: Date): Window => ({ field, from: dayStart(from), to: now })
  const range = (from: Date): string =>
    `records whose ${field} is on or after ${dayText(from)} (UTC; the range is day-granular, so the window starts at that day's start)`
  if (since.kind === 'ago') {
    const from = new Date(now.getTime() - since.ms)
    log.info(`Window: ${range(from)}, ${formatDuration(since.ms)} before the run started.`)
    return window(from)
  }
  if (since.kind === 'date') {
    log.info(`Window: ${range(since.from)}.`)
    if (since.from > now) log.warning(`'${Inputs.Since}' is in the future: nothing can match yet.`)
    return window(since.from)
  }
  if (!spec.scope) throw new FatalError(`'${Inputs.Since}: last-success' has no mark scope.`)
  const found = await readMark(spec.scope, field, store, log)
  if (!found) {
    log.info(
      `First run: no successful run of this workflow, job, step and query has left a mark, so ` +
        `this run takes every record the query matches; when it succeeds, it leaves the mark the next run starts from.`
    )
    return undefined
  }
  const { mark, from } = found
  const created = new Date(mark.createdAt)
  log.info(
    `Since the last success: run ${mark.runId} created its download at ${created.toISOString()} ` +
      `(mark read from ${from}). Window: ${range(created)}.`
  )
  return window(created)
}

async function readMark(
  scope: MarkScope,
  field: string,
  store: MarkStore,
  log: Logger
): Promise<{ mark: Mark; from: string } | undefined> {
  const fits = (mark: Mark | undefined): mark is Mark =>
    mark !== undefined &&
    mark.field === field &&
    mark.queryHash === scope.queryHash &&
    !Number.isNaN(new Date(mark.createdAt).getTime())
  let missed = store.cacheUnavailable()
  if (missed === undefined) {
    try {
      const cached = await store.fromCache(scope)
      if (fits(cached)) return { mark: cached, from: 'the Actions cache' }
      missed = 'the Actions cache holds no mark (an entry not read for 7 days is evicted)'
    } catch (error) {
      missed = `the Actions cache could not be read (${redact(errorMessage(error))})`
    }
  }
  log.info(
    `No mark in the Actions cache: ${missed}. Reading the durable copy (artifact ${scope.name}).`
  )
  let durable: Mark | undefined
  try {
    durable = await store.fromDurable(scope)
  } catch (error) {
    throw new FatalError(
      `'${Inputs.Since}: last-success' cannot tell which records are new, so nothing was bought: ` +
        `${missed}, and the durable copy of the mark could not be read (${redact(errorMessage(error))}). ` +
        `Grant the job 'permissions: actions: read' (the mark is kept as artifact ${scope.name} and read with ` +
        `'${Inputs.GithubToken}'), or set '${Inputs.Since}' to a date or a duration for this run.`,
      { cause: error }
    )
  }
  return fits(durable) ? { mark: durable, from: `artifact ${scope.name}` } : undefined
}

/**
 * Leaves the mark for the next run, once this run has delivered: in the cache for the next run to
 * find fast, and as the durable copy. Either may fail without failing a run that has delivered;
 * the next run then starts from an earlier mark, which overlaps and never leaves a gap.
 */
export async function leaveMark(
  scope: MarkScope,
  mark: Mark,
  store: MarkStore,
  log: Logger
): Promise<void> {
  const kept: string[] = []
  const failed: string[] = []
  const cacheOff = store.cacheUnavailable()
  if (cacheOff === undefined) {
    await store.toCache(scope, mark).then(
      () => kept.push('the Actions cache'),
      (error: unknown) => failed.push(`the Actions cache (${redact(errorMessage(error))})`)
    )
  }
  await store.toDurable(scope, mark).then(
    () => kept.push(`artifact ${scope.name}`),
    (error: unknown) => failed.push(`artifact ${scope.name} (${redact(errorMessage(error))})`)
  )
  if (kept.length > 0) {
    log.info(`Left the mark for the next run: ${mark.createdAt}, in ${kept.join(' and ')}.`)
  }
  if (failed.length > 0) {
    log.warning(
      `Could not keep the 'since: last-success' mark in ${failed.join(' or ')}` +
        (kept.length > 0
          ? '.'
          : `: the next run starts from the earlier mark, buying some records again rather than missing any.`)
    )
  }
}

/** A stored mark read back, or undefined when it is not one. */
export function asMark(value: unknown): Mark | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const mark = value as Record<string, unknown>
  const texts = ['createdAt', 'field', 'queryHash', 'runId', 'requestId'] as const
  return mark['version'] === 1 && texts.every(name => typeof mark[name] === 'string')
    ? (mark as unknown as Mark)
    : undefined
}
