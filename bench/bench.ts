/**
 * `npm run bench`: how fast the built action (dist/index.js) is against the local Datafiniti
 * simulator, next to curl and aria2c, with its targets. Prints a markdown table and writes it to
 * bench/RESULTS.md (full runs only). See bench/README.md for what each case measures.
 *
 *   npm run bench                      full run (several minutes, about 1.5 GiB of free disk)
 *   npm run bench -- --quick           small sizes, one run each, stdout only (CI keeps it working)
 *   npm run bench -- --cap-mibps 50    per-connection bandwidth cap of the file host (default 25)
 *   npm run bench -- --runs 5          runs per figure (default 3; quick: 1)
 *   npm run bench -- --only 1,4        some cases only (stdout only)
 *   npm run bench -- --only 7,8        the MD5-verified downloads
 *   npm run bench -- --quiet-wait 0    no wait for a quiet machine before each round (default 60)
 */
import { writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { artifactMode } from './cases/artifact-mode.js'
import { cappedFile } from './cases/capped-file.js'
import { compressionLevels } from './cases/compression-level.js'
import { largeFile } from './cases/large-file.js'
import { manyFiles } from './cases/many-files.js'
import { recordCounter } from './cases/record-counter.js'
import { startup } from './cases/startup.js'
import { verifiedCpu } from './cases/verified-cpu.js'
import { verifiedFanOut } from './cases/verified-fan-out.js'
import { verifiedLargeFile } from './cases/verified-large-file.js'
import { markdownReport, RESULTS_FILE } from './report.js'
import { log, setUp, type Case, type Settings } from './setup.js'

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB
const RUN_TIMEOUT_MS = 15 * 60_000

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'cap-mibps': { type: 'string', default: '25' },
    runs: { type: 'string' },
    only: { type: 'string' },
    'quiet-wait': { type: 'string' }
  }
})
const quick = values.quick
const capMiBps = Number(values['cap-mibps'])
const runs = values.runs !== undefined ? Number(values.runs) : quick ? 1 : 3
/** The case numbers asked for; all when undefined. */
const only = values.only ? new Set(values.only.split(',').map(s => Number(s.trim()))) : undefined
const quietWaitMs = Number(values['quiet-wait'] ?? (quick ? 0 : 60)) * 1000
if (
  !(capMiBps > 0) ||
  !Number.isInteger(runs) ||
  runs < 1 ||
  !(quietWaitMs >= 0) ||
  [...(only ?? [])].some(n => !(n >= 1))
) {
  throw new Error(
    'usage: bench.ts [--quick] [--cap-mibps N] [--runs N] [--only 1,2,…] [--quiet-wait SECONDS]'
  )
}
const writeResults = !quick && values.only === undefined

/** The full run's figure, or the quick run's. */
const pick = <T>(small: T, full: T): T => (quick ? small : full)
const settings: Settings = {
  quick,
  runs,
  capMiBps,
  quietWaitMs,
  // Cases 1 and 7 move a GiB through the page cache of a shared VM, the noisiest figures: more
  // rounds; and start-up is short enough to afford them.
  bigRounds: pick(1, Math.max(5, runs)),
  startupRounds: pick(1, Math.max(5, runs)),
  sizes: {
    big: pick(16 * MiB, 1 * GiB),
    capped: pick(8 * MiB, 512 * MiB),
    many: { count: pick(8, 32), size: pick(1 * MiB, 16 * MiB) },
    counter: pick(32 * MiB, 1 * GiB),
    artifact: { count: 4, size: pick(2 * MiB, 64 * MiB) },
    fanout: { count: 8, size: pick(1 * MiB, 32 * MiB) }
  }
}

const world = setUp(settings, RUN_TIMEOUT_MS)

/** The cases by number, run in this order: the numbers are those of bench/README.md. */
const CASES: [number, (bench: Case) => Promise<void>][] = [
  [1, largeFile],
  [2, cappedFile],
  [3, manyFiles],
  [4, recordCounter],
  [5, startup],
  [6, artifactMode],
  [7, verifiedLargeFile],
  [8, verifiedFanOut],
  [9, compressionLevels],
  [10, verifiedCpu]
]

const started = performance.now()
try {
  for (const [n, run] of CASES) if (only?.has(n) ?? true) await run(world.forCase(n))
} finally {
  world.cleanUp()
}
const markdown = await markdownReport(world, performance.now() - started)
process.stdout.write(`\n${markdown}`)
if (writeResults) {
  writeFileSync(RESULTS_FILE, markdown)
  log(`Wrote ${path.relative(process.cwd(), RESULTS_FILE)}`)
} else {
  log('Quick or partial run: bench/RESULTS.md left as it was.')
}
