import { formatDuration, parseDuration } from '../support/format.js'
import { inputEnvName, type Env } from '../domain/action-io.js'

/** Bad input: the message names the input and the expected form. */
export class InputError extends Error {
  override name = 'InputError'
}

/** An input as the runner passed it, trimmed; empty when unset. */
export function read(env: Env, name: string): string {
  return (env[inputEnvName(name)] ?? '').trim()
}

export function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
}

export function integer(env: Env, name: string, min: number, max: number, fallback: number): number
export function integer(env: Env, name: string, min: number, max: number): number | undefined
export function integer(env: Env, name: string, min: number, max: number, fallback?: number) {
  const raw = read(env, name)
  if (raw === '') return fallback
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new InputError(
      `Input '${name}' must be a whole number from ${min} to ${max}; got ${quote(raw)}.`
    )
  }
  return value
}

// Node's timers take at most 2^31-1 ms (about 24.8 days); longer ones fire at once.
const MAX_DURATION_MS = 24 * 24 * 3_600_000

export function duration(env: Env, name: string, fallback: string, minMs: number): number {
  const raw = read(env, name) || fallback
  const ms = parseDuration(raw)
  if (ms === undefined || ms < minMs || ms > MAX_DURATION_MS) {
    throw new InputError(
      `Input '${name}' must be a duration from ${formatDuration(minMs)} to 24 days: a number of seconds ` +
        `or a number with a unit ms, s, m or h (for example 30s, 1.5s, 10m, 2h); got ${quote(raw)}.`
    )
  }
  return ms
}
