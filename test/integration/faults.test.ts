/**
 * The fault-injection suite: every misbehaviour the simulator can script, driven through the built
 * dist/index.js. For each: the outcome, the files by sha256, no `.part` left, and neither the token
 * nor a URL signature in anything the process printed.
 */
import { existsSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { failureOf, printed, type ActionRun, type RunOptions } from '../../sim/runner.js'
import { bufferBody, type SimFile, type SimRequest } from '../../sim/simulator.js'
import { fileHashes, partFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_c0ffee00ba5eba11'
const big = awkwardCsv(20_000, 31) // about 1.2 MB: large enough to cut mid-body
const small = awkwardCsv(300, 32)

const file = (name: string, extra: Partial<SimFile> = {}): SimFile => ({
  name,
  body: bufferBody(big.body),
  ...extra
})

// The disk check asks for each file's first byte before the download: faults aimed at the
// download let that probe pass.
const PASS = { pass: true } as const

const requests: SimRequest[] = [
  {
    id: 1,
    requestFaults: [{ status: 503 }, { status: 500 }, { status: 502 }],
    resultFaults: [{ status: 504 }, { status: 500 }],
    files: [file('1_1.csv')]
  },
  {
    id: 2,
    requestFaults: [{ status: 429, headers: { 'Retry-After': '1' } }],
    files: [file('2_1.csv')]
  },
  { id: 3, files: [file('3_1.csv', { faults: [PASS, { destroyAfter: 300_000 }] })] },
  { id: 4, files: [file('4_1.csv', { faults: [PASS, { shortAfter: 500_000 }] })] },
  { id: 5, files: [file('5_1.csv', { faults: [PASS, { stallAfter: 200_000, ms: 20_000 }] })] },
  { id: 6, files: [file('6_1.csv', { expiredUrls: 1 }), file('6_2.csv', { expiredUrls: 1 })] },
  { id: 7, files: [file('7_1.csv', { expiredUrls: 1_000 })] },
  {
    id: 8,
    // S3 says so (x-amz-*): its plain ETag is the MD5, and a mismatch is corruption.
    files: [
      file('8_1.csv', {
        etag: '"0123456789abcdef0123456789abcdef"',
        headers: { 'x-amz-request-id': 'SIM8' }
      })
    ]
  },
  {
    id: 9,
    requestFaults: [{ status: 200, body: '<html><body>502 Bad Gateway</body></html>' }],
    files: [file('9_1.csv')]
  },
  {
    id: 10,
    requestFaults: [
      { status: 200, body: '<html>proxy error</html>' },
      { status: 200, body: '<html>proxy error</html>' }
    ],
    files: []
  },
  { id: 11, requestFaults: [{ status: 200, body: '{"requests":[]}' }], files: [] },
  {
    id: 12,
    resultFaults: [
      {
        status: 200,
        body: `[{"id":1,"link":"https://x.example/${TOKEN}/a.csv?X-Amz-Signature=abcdef123456"}]`
      }
    ],
    files: []
  },
  {
    id: 13,
    files: [
      { name: '../../../escape.csv', body: bufferBody(small.body) },
      { name: 'a:b|c*?.csv', body: bufferBody(small.body) },
      { name: '...', body: bufferBody(small.body) },
      { name: 'dup.csv', body: bufferBody(small.body) },
      { name: 'DUP.csv', body: bufferBody(small.body) }
    ]
  },
  { id: 14, files: [file('14_1.csv', { faults: [PASS, { stallAfter: 100_000, ms: 30_000 }] })] },
  {
    id: 15,
    files: [file('15_1.csv', { faults: [PASS, { status: 503 }, { status: 503 }, { status: 503 }] })]
  },
  { id: 16, files: [file('16_1.csv'), file('16_2.csv', { body: bufferBody(small.body) })] },
  {
    id: 17,
    files: [file('17_1.csv', { noRanges: true, faults: [PASS, { destroyAfter: 400_000 }] })]
  },
  { id: 18, files: [file('18_1.csv', { chunked: true })] },
  { id: 19, files: [file('19_1.csv', { faults: [PASS, { delay: 60_000 }] })] },
  { id: 20, files: [file('20_1.csv', { expiredUrls: 1 })] }
]

const world = useWorld({ token: TOKEN, requests }, { inputs: { [Inputs.Mode]: 'files' } })

function run(id: number, extra: Record<string, string> = {}, onStart?: RunOptions['onStart']) {
  return world.run(
    { [Inputs.RequestId]: String(id), [Inputs.StallTimeout]: '500ms', ...extra },
    onStart ? { onStart } : {}
  )
}

/** Where the run downloads: its download-path output, or the default for a run that failed. */
function dirOf(result: ActionRun, id: number): string {
  return (
    result.outputs[Outputs.DownloadPath] ?? path.join(result.workspace, 'datafiniti', String(id))
  )
}

/**
 * Checks that hold for every case, success or failure: nothing secret printed, and no `.part` in
 * the download directory, which must exist unless the run failed before it downloaded anything.
 */
function expectClean(result: ActionRun, id: number, failedBefore?: 'download'): void {
  world.expectNoSecrets(result)
  const dir = dirOf(result, id)
  if (failedBefore === 'download') {
    expect(existsSync(dir), `${dir} made before anything was downloaded`).toBe(false)
    expect(result.stdout).not.toContain('Downloading to')
  } else {
    expect(partFiles(dir)).toEqual([])
  }
}

function expectSuccess(result: ActionRun, id: number, bodies: Buffer[]): void {
  expect(result.code, printed(result)).toBe(0)
  expect(fileHashes(result)).toEqual(bodies.map(sha256))
  expectClean(result, id)
}

function expectFailure(
  result: ActionRun,
  id: number,
  message: RegExp,
  failedBefore?: 'download'
): void {
  expect(result.code, printed(result)).not.toBe(0)
  expect(failureOf(result)).toMatch(message)
  expectClean(result, id, failedBefore)
}

/** Runs request `id` and checks that it fails with `message` (see expectFailure). */
async function runFailing(
  id: number,
  message: RegExp,
  failedBefore?: 'download',
  extra: Record<string, string> = {}
): Promise<ActionRun> {
  const result = await run(id, extra)
  expectFailure(result, id, message, failedBefore)
  return result
}

function fileRequests(
  name: string
): { range: string | undefined; ifRange: string | undefined; status: number }[] {
  return world.sim.log
    .filter(e => e.server === 'files' && e.path.split('?')[0]?.endsWith(`/${name}`))
    .map(e => ({
      range: e.headers.range,
      ifRange: e.headers['if-range'] as string | undefined,
      status: e.status
    }))
}

/** The requests of the download itself, without the disk check's size probe. */
function transfers(name: string): ReturnType<typeof fileRequests> {
  return fileRequests(name).filter(r => r.range !== 'bytes=0-0')
}

describe('transient API failures are retried', () => {
  it('leading 5xx on /requests and /results', async () => {
    const result = await run(1)
    expectSuccess(result, 1, [big.body])
    expect(result.stdout).toMatch(
      /GET \/v3\/requests\/1 failed \(.*HTTP 503.*\); retry 1 of 5 in \d/
    )
    expect(result.stdout).toMatch(
      /GET \/v3\/requests\/1 failed \(.*HTTP 502.*\); retry 3 of 5 in \d/
    )
    expect(result.stdout).toMatch(
      /GET \/v3\/results\/1 failed \(.*HTTP 500.*\); retry 2 of 5 in \d/
    )
  })

  it('429 with Retry-After waits as told', async () => {
    const result = await run(2)
    expectSuccess(result, 2, [big.body])
    expect(result.stdout).toMatch(
      /GET \/v3\/requests\/2 failed \(.*HTTP 429.*\); retry 1 of 5 in 1s/
    )
  })

  it('a non-JSON 200 (a proxy error page) is retried', async () => {
    const result = await run(9)
    expectSuccess(result, 9, [big.body])
    expect(result.stdout).toMatch(
      /GET \/v3\/requests\/9 answered HTTP 200 with a body that is not JSON: "&lt;html>|GET \/v3\/requests\/9 answered HTTP 200 with a body that is not JSON: "<html>/
    )
  })

  it('a lasting non-JSON answer fails naming the endpoint, status and body', async () => {
    await runFailing(
      10,
      /GET \/v3\/requests\/10 answered HTTP 200 with a body that is not JSON: "<html>proxy error<\/html>"/,
      'download',
      { [Inputs.MaxRetries]: '1' }
    )
  })

  it('JSON of the wrong shape fails at once with the endpoint and status', async () => {
    await runFailing(
      11,
      /GET \/v3\/requests\/11 answered HTTP 200 with JSON of an unexpected shape \(no "status" string\): "\{"requests":\[\]\}"/,
      'download'
    )
  })

  it('a results answer without URLs fails, its body shown without secrets', async () => {
    const result = await runFailing(
      12,
      /GET \/v3\/results\/12 answered HTTP 200 with JSON of an unexpected shape \(result 1 has no http\(s\) "url"\)/,
      'download'
    )
    expect(failureOf(result)).toContain('x.example/…/a.csv')
  })
})

describe('broken transfers resume or restart, and are verified', () => {
  it('a connection destroyed mid-file resumes with Range and If-Range', async () => {
    const result = await run(3)
    expectSuccess(result, 3, [big.body])
    const requestsSeen = transfers('3_1.csv')
    expect(requestsSeen[0]).toMatchObject({ range: undefined, status: 200 })
    expect(requestsSeen[1]?.range).toMatch(/^bytes=\d+-$/)
    expect(requestsSeen[1]?.ifRange).toMatch(/^"[0-9a-f]{32}"$/)
    expect(requestsSeen[1]?.status).toBe(206)
    expect(result.stdout).toMatch(/3_1\.csv: resuming at byte \d+ of 1\d{6}/)
    expect(result.outputs[Outputs.RowCount]).toBe('20000')
  })

  it('a body shorter than its Content-Length is never a success: the rest is resumed', async () => {
    const result = await run(4)
    expectSuccess(result, 4, [big.body])
    expect(transfers('4_1.csv')[1]?.range).toBe('bytes=500000-')
    expect(result.outputs[Outputs.RowCount]).toBe('20000')
  })

  it('a stalled transfer is dropped after stall-timeout and resumed', async () => {
    const result = await run(5)
    expectSuccess(result, 5, [big.body])
    expect(result.stdout).toMatch(
      /5_1\.csv .*failed \(127\.0\.0\.1:\d+ sent nothing for 500ms in the middle of the body\); retry 1 of 5/
    )
    expect(transfers('5_1.csv')[1]?.range).toMatch(/^bytes=\d+-$/)
  })

  it('a host without range support restarts the file from the beginning', async () => {
    const result = await run(17)
    expectSuccess(result, 17, [big.body])
    expect(transfers('17_1.csv').map(r => r.range)).toEqual([undefined, undefined])
  })

  it('a chunked body without Content-Length downloads whole', async () => {
    const result = await run(18)
    expectSuccess(result, 18, [big.body])
  })

  it('an MD5 that does not match the ETag fails after the retries and leaves no file', async () => {
    const result = await run(8, { [Inputs.MaxRetries]: '1' })
    expectFailure(
      result,
      8,
      /Could not download 8_1\.csv from 127\.0\.0\.1:\d+\/…\/8_1\.csv: its MD5 [0-9a-f]{32} does not match the ETag 0123456789abcdef0123456789abcdef/
    )
    expect(readdirSync(dirOf(result, 8))).toEqual([])
  })

  it('a file host answering 503 past max-retries fails naming the file', async () => {
    const result = await run(15, { [Inputs.MaxRetries]: '2' })
    expectFailure(result, 15, /Could not download 15_1\.csv .*HTTP 503/)
    expect(transfers('15_1.csv')).toHaveLength(3)
  })
})

describe('expired URLs', () => {
  it('fetches /results once more for fresh URLs and carries on', async () => {
    const before = world.sim.log.filter(e => e.path.startsWith('/v3/results/6')).length
    const result = await run(6)
    expectSuccess(result, 6, [big.body, big.body])
    // One /results for the first URLs, one for fresh ones: once for both files.
    expect(world.sim.log.filter(e => e.path.startsWith('/v3/results/6')).length - before).toBe(2)
    expect(result.stdout).toContain(
      'the file host refused its URL; fetched fresh URLs from /results'
    )
  })

  it('uses the fresh URL even with max-retries 0: a refresh is not a retry', async () => {
    const result = await run(20, { [Inputs.MaxRetries]: '0' })
    expectSuccess(result, 20, [big.body])
  })

  it('fails naming the file and the 7-day expiry when fresh URLs are refused too', async () => {
    const result = await run(7)
    expectFailure(
      result,
      7,
      /The file host refused 7_1\.csv from 127\.0\.0\.1:\d+\/…\/7_1\.csv: HTTP 403 \(AccessDenied: Request has expired\)\. The results may have expired: .*7 days/
    )
    expect(readdirSync(dirOf(result, 7))).toEqual([])
  })
})

describe('hostile file names', () => {
  it('never writes outside path, and keeps every name distinct', async () => {
    const result = await run(13, { [Inputs.Path]: 'deep/inside' })
    expect(result.code, printed(result)).toBe(0)
    const dir = path.join(result.workspace, 'deep', 'inside')
    expect(readdirSync(dir).sort()).toEqual(
      [
        'DUP-2.csv',
        'a_b_c__.csv',
        'dup.csv',
        'escape.csv',
        'result-3',
        'datafiniti-manifest.json'
      ].sort()
    )
    expect(readdirSync(result.workspace).sort()).toEqual(['deep'])
    expect(readdirSync(path.join(result.workspace, 'deep'))).toEqual(['inside'])
    expectClean(result, 13)
  })
})

describe('re-runs and cancellation', () => {
  it('a re-run over complete, verified files downloads nothing again and reports the same', async () => {
    const first = await run(16)
    expectSuccess(first, 16, [big.body, small.body])
    const before = fileRequests('16_1.csv').length
    // Without the short stall-timeout of run(): a plain re-run.
    const second = await world.run({ [Inputs.RequestId]: '16' }, { workspace: first.workspace })
    expectSuccess(second, 16, [big.body, small.body])
    expect(second.stdout).toMatch(
      /16_1\.csv is already complete in .* \(size and MD5 match\): not downloaded again/
    )
    // Only a one-byte probe reached the host.
    expect(
      fileRequests('16_1.csv')
        .slice(before)
        .map(r => r.range)
    ).toEqual(['bytes=0-0'])
    // Fresh signatures each time; everything else is identical.
    const same = (r: ActionRun) => ({
      ...r.outputs,
      urls: (JSON.parse(r.outputs[Outputs.Urls] ?? '[]') as string[]).map(u => u.split('?')[0])
    })
    expect(same(second)).toEqual(same(first))
  })

  it('SIGTERM while the file host has not answered yet stops at once', async () => {
    let killedAt = 0
    const result = await run(19, {}, (child, output) => {
      const timer = setInterval(() => {
        if (output().includes('Downloading to')) {
          clearInterval(timer)
          setTimeout(() => {
            killedAt = Date.now()
            child.kill('SIGTERM')
          }, 300)
        }
      }, 20)
    })
    expect(Date.now() - killedAt).toBeLessThan(5000)
    expectFailure(result, 19, /Cancelled by SIGTERM/)
    expect(readdirSync(dirOf(result, 19))).toEqual([])
  })

  it('SIGTERM during a download stops it and leaves no partial file', async () => {
    const result = await run(14, { [Inputs.StallTimeout]: '60s' }, (child, output) => {
      const timer = setInterval(() => {
        if (output().includes('::group::Download')) {
          clearInterval(timer)
          setTimeout(() => child.kill('SIGTERM'), 300)
        }
      }, 20)
    })
    expectFailure(result, 14, /Cancelled by SIGTERM/)
    expect(readdirSync(dirOf(result, 14))).toEqual([])
  })
})
