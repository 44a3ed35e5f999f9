/**
 * No host can hang, redirect or talk its way past the action, through dist/index.js and on both
 * transports (`npm run test:fallback` runs this file again with every file request through
 * @actions/http-client): error bodies that stall after the head, a peer that never answers and
 * ignores our FIN, plain-http result URLs and redirects to other hosts, link-local and private
 * addresses. The action's process runs under sim/loopback-only.js: host names resolve as the test
 * says, and a connection that would leave loopback is refused and recorded instead of made.
 */
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { loopbackOnlyChild, startHalfOpenPeer, type HalfOpenPeer } from '../../sim/hostile.js'
import {
  annotations,
  failureOf,
  printed,
  type ActionRun,
  type RunOptions
} from '../../sim/runner.js'
import { bufferBody, type SimFile, type SimRequest } from '../../sim/simulator.js'
import { fileHashes, partFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_h0stile5afe00'
const csv = awkwardCsv(3000, 71)
const PASS = { pass: true } as const

const file = (name: string, extra: Partial<SimFile> = {}): SimFile => ({
  name,
  body: bufferBody(csv.body),
  ...extra
})
const redirects = (to: string): SimFile['faults'] =>
  Array.from({ length: 8 }, () => ({ redirect: to }))

const halfOpenFile = file('5_1.csv')
const requests: SimRequest[] = [
  { id: 1, files: [file('1_1.csv', { faults: [PASS, { stalledError: 503 }] })] },
  { id: 2, files: [file('2_1.csv', { faults: [{ stalledError: 503 }] })] },
  { id: 3, requestFaults: [{ stalledError: 503 }], files: [file('3_1.csv')] },
  { id: 4, files: [file('4_1.csv', { faults: [PASS, { stalledError: 503 }] })] },
  { id: 5, files: [halfOpenFile] },
  { id: 7, files: [file('7_1.csv', { origin: 'http://files.test' })] },
  { id: 8, files: [file('8_1.csv', { faults: redirects('http://elsewhere.test/8_1.csv') })] },
  {
    id: 9,
    files: [file('9_1.csv', { faults: redirects('https://metadata.test/latest/meta-data/') })]
  },
  { id: 10, files: [file('10_1.csv', { faults: redirects('https://internal.test/10_1.csv') })] },
  // 17 MiB of result list: past the 16 MiB an API answer may be.
  {
    id: 12,
    resultFaults: [{ status: 200, body: `[${'"x",'.repeat(17 * 256 * 1024)}"x"]` }],
    files: []
  },
  {
    id: 11,
    files: [file('11_1.csv', { faults: redirects('https://169.254.169.254/latest/meta-data/') })]
  }
]

const world = useWorld({ token: TOKEN, requests }, { inputs: { [Inputs.Mode]: 'files' } })
const HOSTS = { 'metadata.test': '169.254.169.254', 'internal.test': '10.0.0.5' }

let silent: HalfOpenPeer
let slow503: HalfOpenPeer
beforeAll(async () => {
  silent = await startHalfOpenPeer()
  // The reproduction: a 503 head that promises 200 bytes, seven of them, then nothing.
  slow503 = await startHalfOpenPeer(
    'HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: 200\r\n\r\n<Error>'
  )
  halfOpenFile.origin = silent.origin
})
afterAll(async () => {
  await Promise.all([silent.stop(), slow503.stop()])
})

interface HostileRun extends ActionRun {
  /** Every lookup of a listed name, and every connection refused for leaving loopback. */
  net: ReturnType<ReturnType<typeof loopbackOnlyChild>['records']>
}

async function run(
  id: number,
  extra: Record<string, string> = {},
  onStart?: RunOptions['onStart']
): Promise<HostileRun> {
  const guard = loopbackOnlyChild(HOSTS)
  const result = await world.run(
    { [Inputs.RequestId]: String(id), [Inputs.StallTimeout]: '500ms', ...extra },
    { env: guard.env, timeoutMs: 45_000, ...(onStart ? { onStart } : {}) }
  )
  const net = guard.records()
  // Whatever happened, nothing left loopback: not even an attempt reached the kernel.
  expect(net.filter(record => record.refusedConnect !== undefined)).toEqual([])
  world.expectNoSecrets(result)
  return { ...result, net }
}

/** What a run left in its download directory: nothing at all when it never made one. */
const leftIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : [])

const dirOf = (result: ActionRun, id: number): string =>
  result.outputs[Outputs.DownloadPath] ?? path.join(result.workspace, 'datafiniti', String(id))

/** SIGTERM once the download has begun and the host has gone quiet. */
function termDuringDownload(marks: { killedAt: number }): RunOptions['onStart'] {
  return (child, output) => {
    const timer = setInterval(() => {
      if (output().includes('::group::Download')) {
        clearInterval(timer)
        setTimeout(() => {
          marks.killedAt = Date.now()
          child.kill('SIGTERM')
        }, 500)
      }
    }, 20)
  }
}

/** Request `id` with its host stalled: SIGTERM during the download ends the run in under 5 s, no .part left. */
async function expectTermEndsStalledDownload(id: number): Promise<void> {
  const marks = { killedAt: 0 }
  const result = await run(id, { [Inputs.StallTimeout]: '60s' }, termDuringDownload(marks))
  expect(Date.now() - marks.killedAt).toBeLessThan(5000)
  expect(failureOf(result)).toMatch(/Cancelled by SIGTERM/)
  expect(leftIn(dirOf(result, id))).toEqual([])
}

describe('an answer that stalls after its head', () => {
  it('a file: the stalled 503 body is cut at stall-timeout, named, and the retry gets the file', async () => {
    const result = await run(1)
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(csv.body)])
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /HTTP 503 for 1_1\.csv \(its body: 127\.0\.0\.1:\d+ sent nothing for 500ms in the middle of its HTTP 503 answer\)/
    )
    expect(partFiles(dirOf(result, 1))).toEqual([])
  })

  it("a probe: the disk check's request reads no stalled body, and the download goes on", async () => {
    const result = await run(2)
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(csv.body)])
  })

  it('an API call: the stalled 503 body is cut, named with the API host, and the call retried', async () => {
    const result = await run(3)
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(csv.body)])
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /GET \/v3\/requests\/3 failed \(127\.0\.0\.1:\d+ sent nothing for 500ms in the middle of its HTTP 503 answer\)/
    )
  })

  it('SIGTERM during the stall ends the run in under 5 s with no .part left', async () => {
    await expectTermEndsStalledDownload(4)
  })
})

describe('a half-open peer that never answers and ignores our FIN', () => {
  it('as a file host: each attempt is cut at stall-timeout and the run fails, naming the host', async () => {
    const before = silent.connections
    const result = await run(5, { [Inputs.MaxRetries]: '1' })
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(/127\.0\.0\.1:\d+ sent nothing for 500ms before its answer/)
    // The probe and two attempts, each on a socket of its own; the process could end only because
    // the action destroyed each (the peer never closes one), well before runAction's SIGKILL.
    expect(silent.connections - before).toBeGreaterThanOrEqual(2)
    expect(result.signal).toBeNull()
    expect(leftIn(dirOf(result, 5))).toEqual([])
  })

  it('as a file host: SIGTERM ends the run in under 5 s with no .part left', async () => {
    await expectTermEndsStalledDownload(5)
  })

  it.each([
    ['that never answers', () => silent, /sent nothing for 500ms before its answer/],
    [
      'that sends a 503 head and 7 of 200 bytes',
      () => slow503,
      /sent nothing for 500ms in the middle of its HTTP 503 answer/
    ]
  ])(
    'as the API, %s: every call is cut at stall-timeout and the run fails',
    async (_name, peer, why) => {
      const result = await run(1, { [Inputs.ApiUrl]: peer().origin, [Inputs.MaxRetries]: '1' })
      expect(result.code).not.toBe(0)
      expect(failureOf(result)).toMatch(why)
      expect(result.signal).toBeNull()
    }
  )

  it('as the API: SIGTERM while it says nothing ends the run in under 5 s', async () => {
    let killedAt = 0
    const result = await run(
      1,
      { [Inputs.ApiUrl]: silent.origin, [Inputs.StallTimeout]: '60s' },
      child =>
        setTimeout(() => {
          killedAt = Date.now()
          child.kill('SIGTERM')
        }, 1500)
    )
    expect(Date.now() - killedAt).toBeLessThan(5000)
    expect(failureOf(result)).toMatch(/Cancelled by SIGTERM/)
  })
})

describe('where a file request may go', () => {
  interface Refusal {
    title: string
    id: number
    /** The failure. */
    why: RegExp
    /** Names never resolved. */
    unlooked: string[]
    /** A lookup made (and refused on its answer) before any connection. */
    lookup?: { lookup: string; address: string }
  }

  // Each fails with `why`, before any file was written, and without resolving `unlooked`.
  it.each<Refusal>([
    {
      title: 'a plain-http result URL from another host is refused before any lookup or connection',
      id: 7,
      why: /The result URL files\.test\/…\/7_1\.csv, over http: refused\. Result files are fetched over https only/,
      unlooked: ['files.test']
    },
    {
      title: 'an http→http redirect to another host is refused before any lookup',
      id: 8,
      why: /127\.0\.0\.1:\d+\/…\/8_1\.csv redirected to elsewhere\.test\/…\/8_1\.csv, over http: refused/,
      unlooked: ['elsewhere.test']
    },
    {
      title:
        'a redirect to a name that resolves to the metadata address: looked up, refused, never connected',
      id: 9,
      why: /metadata\.test\/…\/meta-data: refused: metadata\.test resolves to 169\.254\.169\.254, a link-local address/,
      unlooked: [],
      lookup: { lookup: 'metadata.test', address: '169.254.169.254' }
    },
    {
      title:
        'a redirect to a name that resolves to a private address: looked up, refused, never connected',
      id: 10,
      why: /internal\.test\/…\/10_1\.csv: refused: internal\.test resolves to 10\.0\.0\.5, a private network address/,
      unlooked: [],
      lookup: { lookup: 'internal.test', address: '10.0.0.5' }
    },
    {
      title: 'a redirect to the metadata address itself is refused before any connection',
      id: 11,
      why: /redirected to 169\.254\.169\.254\/…\/meta-data: refused: 169\.254\.169\.254 is a link-local address/,
      unlooked: []
    }
  ])('$title', async ({ id, why, unlooked, lookup }) => {
    const result = await run(id)
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(why)
    expect(result.signal).toBeNull()
    expect(readdirSync(dirOf(result, id))).toEqual([])
    for (const name of unlooked) expect(result.net.map(record => record.lookup)).not.toContain(name)
    if (lookup) expect(result.net).toContainEqual(lookup)
  })
})

describe('an API answer over the size limit', () => {
  it('fails at once with its own error: not cut, not retried as "not JSON"', async () => {
    const before = world.sim.log.length
    const result = await run(12)
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(
      /answered HTTP 200 with more than 16\.0 MiB, the most an API answer may be .*: not read/
    )
    expect(failureOf(result)).not.toMatch(/not JSON/)
    const calls = world.sim.log
      .slice(before)
      .filter(entry => entry.path.startsWith('/v3/results/12'))
    expect(calls).toHaveLength(1)
  })
})
