/**
 * Text from the API and from URLs never becomes a workflow command, through dist/index.js: a status
 * and file names that carry line breaks and `::` commands, an error that does, and a file host
 * explanation that does. Over every stdout line, only the action's own commands start with `::`.
 */
import { readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { annotations, failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody, type SimFile } from '../../sim/simulator.js'
import { maskedValues } from '../helpers/masks.js'
import { fileHashes, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_l0g5afety0000'
const csv = awkwardCsv(50, 61)

/** What a hostile or broken server would slip in: each would be a live command if printed raw. */
const STATUS = 'STARTED\n::warning::status-injected\r\n::stop-commands::zzz'
const STATUS_V4 = 'running\n::error::v4-status-injected'
const NAMES = [
  'evil\n::warning::name-injected.csv',
  'evil2\r::add-mask::COMPLETED.csv',
  '##[add-mask]old-form.csv',
  'sep\u2028::notice::u2028.csv'
]

const files = (names: readonly string[]): SimFile[] =>
  names.map(name => ({ name, body: bufferBody(csv.body) }))

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      { id: 501, pollsUntilComplete: 2, pendingStatus: STATUS, files: files(NAMES) },
      {
        id: 'v4-log-safety-0001',
        pollsUntilComplete: 2,
        pendingStatus: STATUS_V4,
        files: files(NAMES.slice(0, 2))
      },
      {
        id: 502,
        pollsUntilComplete: 1,
        error: 'Query failed\n::warning::error-injected\n##[add-mask]x',
        files: []
      },
      {
        id: 503,
        files: [
          {
            name: 'gone\n::warning::host-injected.csv',
            body: bufferBody(csv.body),
            // The disk check's one-byte probe passes; the download itself meets the 404.
            faults: [
              { pass: true },
              {
                status: 404,
                body: '<Error><Code>NoSuchKey</Code><Message>gone\n::warning::xml-injected</Message></Error>'
              }
            ]
          }
        ]
      }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files' } }
)

/** The commands the action itself issues, and the values it may mask. */
const OWN = /^::(add-mask|debug|group|endgroup|warning|error|notice)(\s[^:]*)?::/

/**
 * Over every line the runner would read: a command only where the action issued one, never a
 * command or mask that came from the server, and no old-form `##[` command anywhere.
 */
function expectOnlyOwnCommands(run: ActionRun): void {
  for (const line of run.stdout.split(/\r\n|\r|\n/)) {
    expect(line, 'old-form command').not.toContain('##[')
    if (!/^\s*::/.test(line)) continue
    expect(line, 'a command the action did not issue').toMatch(OWN)
    expect(line).not.toMatch(/^\s*::stop-commands::/)
  }
  for (const value of maskedValues(run)) {
    expect(
      OWN_MASKS.some(mask => (typeof mask === 'string' ? mask === value : mask.test(value))),
      `masked ${value}`
    ).toBe(true)
  }
  // An annotation the server made would start with its payload; the action's own only quote it.
  for (const kind of ['warning', 'error'] as const) {
    for (const message of annotations(run, kind)) expect(message).not.toMatch(/^[\w-]*injected/)
  }
}

/**
 * All the action masks: the token, its Basic form, and each URL the API handed out in the forms
 * it could be printed: whole, without its query, its path (which holds the token here), its
 * signature (HMAC-SHA256 hex) and credential, as sent and decoded.
 */
const OWN_MASKS = [
  TOKEN,
  Buffer.from(`${TOKEN}:`).toString('base64'),
  /^[0-9a-f]{64}$/,
  new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${TOKEN}/`),
  new RegExp(`^/${TOKEN}/`),
  /^AKIASIMULATOR(\/|%2F)/
] as const

describe('text from the API and URLs reaches the log as text, never as a command', () => {
  it('v3: a status and file names with line breaks and commands', async () => {
    const run = await world.run({ [Inputs.RequestId]: '501' })
    expect(run.code, printed(run)).toBe(0)
    expectOnlyOwnCommands(run)
    expect(annotations(run, 'warning')).toEqual([])
    // Still there to read, on one line each.
    expect(run.stdout).toContain('STARTED : :warning: :status-injected : :stop-commands: :zzz')
    expect(run.stdout).toMatch(/evil : :warning: :name-injected\.csv/)
    // Every file arrived whole, under a name safe on any runner.
    expect(fileHashes(run)).toEqual(NAMES.map(() => sha256(csv.body)))
    const dir = path.join(run.workspace, 'datafiniti', '501')
    for (const name of readdirSync(dir)) {
      // eslint-disable-next-line no-control-regex
      expect(name).not.toMatch(/[\u0000-\u001f\u2028:]|##\[/)
    }
    // The job summary keeps each file on its own table row, its name in a code span.
    const rows = run.summary.split('\n').filter(line => line.startsWith('| `evil'))
    expect(rows).toHaveLength(2)
    // File, Size, Records, Expires, Check: five cells between six bars (none escaped).
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(7)
    world.expectNoSecrets(run)
  })

  it('v4: a status with a line break and a command', async () => {
    const run = await world.run({
      [Inputs.ApiVersion]: 'v4',
      [Inputs.RequestId]: 'v4-log-safety-0001'
    })
    expect(run.code, printed(run)).toBe(0)
    expectOnlyOwnCommands(run)
    expect(annotations(run, 'error')).toEqual([])
    expect(run.stdout).toContain('running : :error: :v4-status-injected')
  })

  it("a failed request's error text: one line in the failure, no command", async () => {
    const run = await world.run({ [Inputs.RequestId]: '502' })
    expect(run.code).not.toBe(0)
    expectOnlyOwnCommands(run)
    expect(failureOf(run)).toContain('Query failed : :warning: :error-injected # #[add-mask]x')
    expect(failureOf(run)).not.toMatch(/[\r\n]/)
  })

  it("a file host's explanation and a file name in a failure: one line, no command", async () => {
    const run = await world.run({ [Inputs.RequestId]: '503' })
    expect(run.code).not.toBe(0)
    expectOnlyOwnCommands(run)
    expect(failureOf(run)).toMatch(
      /gone_+warning__host-injected\.csv .*\/…\/gone : :warning: :host-injected\.csv\): HTTP 404 \(NoSuchKey: gone : :warning: :xml-injected\)/
    )
    expect(failureOf(run)).not.toMatch(/[\r\n]/)
  })
})
