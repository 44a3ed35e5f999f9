import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const MiB = 1024 * 1024

type Collect = () => void

/**
 * A young-generation garbage collection, where the engine allows one: `--expose-gc` set at run
 * time reaches new contexts, as Jest's `--logHeapUsage` does it. Undefined if that fails.
 */
export function minorGc(): Collect | undefined {
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as ((options: { type: 'minor' }) => void) | undefined
    if (typeof gc !== 'function') return undefined
    return () => {
      gc({ type: 'minor' })
    }
  } catch {
    return undefined
  }
}

/**
 * Every socket read of node:http allocates a fresh 64 KiB buffer outside the JavaScript heap, and
 * the engine frees a dead one only when a collection finds it (the direct reader, direct-get.ts,
 * reuses one buffer and needs none of this). A download makes almost no other garbage, so
 * collections are rare and dead buffers pile up: 40+ MiB of a run's peak. Collecting the young
 * generation after every 4 MiB received keeps memory flat (1 GiB: peak ~75 MiB instead of ~100,
 * bench/RESULTS.md case 1) for ~0.2 ms each, ~50 ms per GiB; collecting less often was slower.
 */
export function reclaimer(every = 4 * MiB, collect: Collect | undefined = minorGc()) {
  let since = 0
  return (bytes: number): void => {
    if (!collect) return
    since += bytes
    if (since < every) return
    since = 0
    collect()
  }
}

let shared: ((bytes: number) => void) | undefined

/** Counts bytes received by every download in this process, collecting as `reclaimer` says. */
export function received(bytes: number): void {
  shared ??= reclaimer()
  shared(bytes)
}
