const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy

/**
 * Parses `30`, `200ms`, `1.5s`, `10m`, `2h` or a compound such as `1h30m`. A bare number is seconds.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const value = text.trim().toLowerCase()
  if (/^\d+(?:\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  if (value === '') return undefined
  PART.lastIndex = 0
  let total = 0
  let consumed = 0
  for (const match of value.matchAll(PART)) {
    const [whole, amount, unit] = match
    total += Number(amount) * (UNIT_MS[unit ?? ''] ?? NaN)
    consumed += whole.length
  }
  if (consumed !== value.length || !Number.isFinite(total)) return undefined
  return Math.round(total)
}

/** `3m10s`, `1h2m`, `850ms`: compact, for log lines. */
export function formatDuration(ms: number): string {
  const rounded = Math.max(0, Math.round(ms))
  if (rounded < 1000) return `${rounded}ms`
  let seconds = Math.round(ms / 1000)
  const hours = Math.floor(seconds / 3600)
  seconds -= hours * 3600
  const minutes = Math.floor(seconds / 60)
  seconds -= minutes * 60
  if (hours > 0) return minutes > 0 ? `${hours}h${minutes}m` : `${hours}h`
  if (minutes > 0) return seconds > 0 ? `${minutes}m${seconds}s` : `${minutes}m`
  return `${seconds}s`
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`
}

/** `95,378`. Not toLocaleString: its first call loads ICU data, tens of milliseconds. */
export function formatCount(value: number): string {
  const [whole = '', fraction] = String(value).split('.')
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return fraction === undefined ? grouped : `${grouped}.${fraction}`
}
