/**
 * The figures of the results table: the Row type, medians of samples, and how times, sizes and
 * ratios are written.
 */

/** A row of the results table: which measurement, its figure, and the goal it is held to. */
export interface Row {
  n: number
  what: string
  figure: string
  target?: string
  met?: boolean
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  return ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${ms.toFixed(0)} ms`
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2)
  return `${text} ${units[unit] ?? 'B'}`
}

export function formatRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a'
}

/** `1.2 s, 1.3 s, 1.2 s` for the raw samples behind a median. */
export function formatSamples(values: readonly number[], format = formatMs): string {
  return values.map(format).join(', ')
}

/** A peak RSS, already in MiB. */
export const mib = (value: number): string => `${value.toFixed(1)} MiB`

export const percent = (value: number): string => `${(100 * value).toFixed(1)}%`
