import { leaveMark, planWindow } from '../api/marks.js'
import { windowedQuery } from '../api/windowed-query.js'
import { Outputs } from '../domain/action-io.js'
import type { QuerySpec } from '../domain/model.js'
import type { Window } from '../domain/window.js'
import type { Settings } from '../inputs/settings.js'
import type { Ports } from '../ports.js'

/** The query this run buys, once `since` has had its say. */
export interface QueryPlan {
  /** What the count and the create call receive: the user's query, with the window ANDed on. */
  spec: QuerySpec | undefined
  window: Window | undefined
  /** When the run asked for its download: the mark a success leaves. */
  askedAt: Date
  /**
   * Set when this attempt asked Datafiniti to create the download (and the API took the query, or
   * answered that nothing matches). Only then may the mark move: a dry run, or a re-run that picks
   * up an earlier attempt's download (created at a moment not known here), leaves it where it is.
   */
  created: boolean
}

/** Reads the mark where `since: last-success` asks, and composes the query, before any create. */
export async function planQuery(settings: Settings, ports: Ports): Promise<QueryPlan> {
  const { runner, clock } = ports
  const askedAt = new Date(clock.now())
  const spec = settings.window
  let window: Window | undefined
  if (spec && settings.query) {
    window = await runner.group('Window', () => planWindow(spec, ports.marks, askedAt, runner))
  }
  runner.setOutput(Outputs.Since, window?.from.toISOString() ?? '')
  return {
    spec:
      settings.query && window
        ? windowedQuery(settings.query, window.field, window.from)
        : settings.query,
    window,
    askedAt,
    created: false
  }
}

/** After a successful run that created its download: the mark the next `last-success` run reads. */
export async function keepMark(
  settings: Settings,
  plan: QueryPlan,
  requestId: string,
  ports: Ports
): Promise<void> {
  const scope = settings.window?.scope
  if (!scope || !settings.window) return
  if (!plan.created) {
    ports.runner.info(
      `The mark stays where it was: this attempt did not create the download it delivered, so the ` +
        `moment it was created is not known here. The next run overlaps rather than leaving a gap.`
    )
    return
  }
  const mark = {
    version: 1 as const,
    createdAt: plan.askedAt.toISOString(),
    field: settings.window.field,
    queryHash: scope.queryHash,
    runId: scope.runId,
    requestId
  }
  await ports.runner.group('Leave the mark', () =>
    leaveMark(scope, mark, ports.marks, ports.runner)
  )
}
