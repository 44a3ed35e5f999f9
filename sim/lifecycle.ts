/** How far a request has come, the same whichever API version asks. */
import { signedUrl } from './signed-urls.js'
import type { SimState } from './state.js'
import type { SimRequest } from './types.js'

/** One status poll: counts it and says how far the request has come. */
export function poll(
  state: SimState,
  id: string,
  request: SimRequest
): { done: boolean; share: number; polls: number } {
  const polls = (state.pollCounts.get(id) ?? 0) + 1
  state.pollCounts.set(id, polls)
  const until = request.pollsUntilComplete ?? 0
  const done = polls > until
  return { done, share: done ? 1 : (polls - 1) / Math.max(1, until), polls }
}

export function isComplete(state: SimState, id: string, request: SimRequest): boolean {
  return (state.pollCounts.get(id) ?? 0) > (request.pollsUntilComplete ?? 0)
}

/** The next set of signed URLs for a complete request (each answer signs them anew). */
export function resultUrls(state: SimState, id: string, request: SimRequest): string[] {
  const calls = (state.resultCalls.get(id) ?? 0) + 1
  state.resultCalls.set(id, calls)
  return request.files.map(file => signedUrl(state, file, calls - (request.resultsNotReady ?? 0)))
}
