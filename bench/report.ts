/**
 * The report: the results table as markdown, headed by the exact command, the machine, the Node
 * versions and the bundle measured, and followed by the notes and every sample in order.
 */
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import * as prettier from 'prettier'
import { NODE, ROOT } from '../sim/runner.js'
import { formatMs } from './figures.js'
import { machine } from './machine.js'
import type { World } from './setup.js'

export const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md')

function commandLine(): string {
  const args = process.argv.slice(2)
  if (process.env['npm_lifecycle_event'] === 'bench') {
    return `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
  }
  return ['npx tsx bench/bench.ts', ...args].join(' ')
}

function actionNodeVersion(): string {
  if (NODE === process.execPath) return process.version
  const result = spawnSync(NODE, ['--version'], { encoding: 'utf8' })
  return result.stdout.trim()
}

function report(world: World, elapsedMs: number): string {
  const { quick, runs, capMiBps, quietWaitMs, startupRounds } = world.bench
  const { rows, notes, samples, quiet } = world.table
  const host = machine()
  const built = world.built.toISOString()
  const git = world.git
  const lines = [
    '# Benchmark results',
    '',
    `Produced by \`${commandLine()}\` on ${new Date().toISOString()}, in ${formatMs(elapsedMs)}.`,
    '',
    `- Machine: ${host.cpu}, ${host.cores} cores, ${host.memory} memory`,
    `- Node: ${process.version} (bench and simulator), ${actionNodeVersion()} (action)`,
    `- Action: dist/index.js built ${built}${git ? `, ${git}` : ''}`,
    `- Simulator on 127.0.0.1, file host capped at ${capMiBps} MiB/s per connection where noted; ` +
      `poll interval 50ms, request already complete`,
    `- ${quick ? 'Quick run: small sizes, ' : ''}${runs} run(s) per figure (start-up: ${startupRounds}), ` +
      'figures are medians; contenders alternate within each round (A,B,A,B,…)',
    '',
    '| # | Measurement | Median | Target | Met |',
    '| - | ----------- | ------ | ------ | --- |',
    ...rows.map(
      row =>
        `| ${row.n} | ${row.what} | ${row.figure} | ${row.target ?? ''} | ${
          row.met === undefined ? '' : row.met ? '✓' : '✗'
        } |`
    ),
    ''
  ]
  if (quiet.size) {
    notes.push(
      `Before each round the bench waited up to ${quietWaitMs / 1000} s for other processes to ` +
        'leave the CPUs under 20% busy for 2 s; CPU use seen just before each round: ' +
        [...quiet].map(([n, seen]) => `(${n}) ${seen.join(', ')}`).join('; ')
    )
  }
  if (notes.length) lines.push('Notes:', '', ...notes.map(note => `- ${note}`), '')
  lines.push('Every run, in order:', '', ...samples, '')
  return lines.join('\n')
}

/** The report formatted as `prettier --check` wants it, so that a fresh RESULTS.md passes it. */
export async function markdownReport(world: World, elapsedMs: number): Promise<string> {
  return prettier.format(report(world, elapsedMs), {
    ...((await prettier.resolveConfig(RESULTS_FILE)) ?? {}),
    filepath: RESULTS_FILE
  })
}
