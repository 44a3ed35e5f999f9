/**
 * What the bench needs of the machine: tools on PATH, a description for the report, scratch
 * directories, and a wait for the other users of the CPUs to go quiet.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { formatSize } from './figures.js'

/** The executable's absolute path if it is on PATH. */
export function which(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, command)
    if (existsSync(candidate)) return candidate
  }
  return undefined
}

export function machine(): { cpu: string; cores: number; memory: string } {
  let cpu = os.cpus()[0]?.model ?? 'unknown'
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (match?.[1]) cpu = match[1].trim()
  } catch {
    // not Linux: keep os.cpus()
  }
  return { cpu, cores: os.availableParallelism(), memory: formatSize(os.totalmem()) }
}

/** A fresh empty directory under `base` for one run; `remove()` deletes it (1 GiB files!). */
export function scratch(base: string, name: string): { dir: string; remove(): void } {
  const dir = path.join(base, name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Busy and total jiffies of all CPUs since boot, from /proc/stat; undefined off Linux. */
function cpuJiffies(): { busy: number; total: number } | undefined {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? ''
    const fields = first.trim().split(/\s+/).slice(1).map(Number)
    const total = fields.reduce((sum, value) => sum + value, 0)
    // idle and iowait are the 4th and 5th fields.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

export interface Quiet {
  waitedMs: number
  /** Share of all CPUs busy in the last sample, 0..1; NaN when unknown. */
  busy: number
}

/**
 * Other people's processes (a test run, a type check) skew every timing on a small machine: waits
 * until the CPUs have been under `threshold` busy for `quietMs`, or `maxMs` has passed. The bench
 * itself is idle meanwhile, so what it sees is everyone else.
 */
export async function waitForQuiet(maxMs: number, threshold = 0.2, quietMs = 2000): Promise<Quiet> {
  const started = performance.now()
  const stepMs = 500
  let quietFor = 0
  let busy = NaN
  let before = cpuJiffies()
  if (!before) return { waitedMs: 0, busy }
  for (;;) {
    await new Promise(resolve => setTimeout(resolve, stepMs))
    const after = cpuJiffies()
    if (!after) return { waitedMs: performance.now() - started, busy }
    const total = after.total - before.total
    busy = total > 0 ? (after.busy - before.busy) / total : 0
    before = after
    quietFor = busy < threshold ? quietFor + stepMs : 0
    const waitedMs = performance.now() - started
    if (quietFor >= quietMs || waitedMs >= maxMs) return { waitedMs, busy }
  }
}
