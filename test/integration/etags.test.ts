/**
 * What each file is checked against, as S3 and other hosts really answer: the MD5 only where the
 * ETag is one (not for multipart uploads, SSE-KMS or SSE-C objects), a corrupted transfer refetched,
 * an ETag that is not an MD5 on a host that does not say it is S3, a body ended by a bare
 * connection close, and an object replaced between two requests. Through dist/index.js.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Environment, Inputs } from '../../src/domain/action-io.js'
import { MANIFEST_NAME } from '../../src/domain/model.js'
import { awkwardCsv, csvParts, sha256 } from '../../sim/data.js'
import { annotations, failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody, repeatBody, type FileBody, type SimFile } from '../../sim/simulator.js'
import { fileHashes, partFiles, useWorld } from '../helpers/world.js'

/** Whether the action's direct socket reader is on (`npm run test:fallback` turns it off). */
const DIRECT = process.env[Environment.DirectDownloads] !== 'false'

const TOKEN = 'tok_etags_7d1e0c55'
const MiB = 1024 * 1024
const a = awkwardCsv(8_000, 71) // about 500 kB
const b = awkwardCsv(9_000, 72)
const c = awkwardCsv(300, 73)
const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex')
/** A 32-hex ETag that is not the MD5 of anything served here, as SSE-KMS and SSE-C ETags are. */
const NOT_MD5 = '"5d41402abc4b2a76b9719d911017c592"'
const S3 = { 'x-amz-request-id': 'SIMREQ0001', 'x-amz-id-2': 'SIMHOST' }
/** An S3 object encrypted with SSE-S3: its ETag is still the MD5. */
const SSE_S3 = { ...S3, 'x-amz-server-side-encryption': 'AES256' }

/** About 70 MiB of CSV with its MD5: above the 64 MiB split threshold, so it comes in ranges. */
function largeWithMd5(): { body: FileBody; sha256: string } {
  const { header, block } = csvParts(2000, 74)
  const times = Math.ceil((70 * MiB) / block.length)
  const body = repeatBody(header, block, times)
  const md5Hash = createHash('md5').update(header)
  const shaHash = createHash('sha256').update(header)
  for (let i = 0; i < times; i++) {
    md5Hash.update(block)
    shaHash.update(block)
  }
  return { body: { ...body, md5: md5Hash.digest('hex') }, sha256: shaHash.digest('hex') }
}
const large = largeWithMd5()

const file = (name: string, data: Buffer, extra: Partial<SimFile> = {}): SimFile => ({
  name,
  body: bufferBody(data),
  ...extra
})

/**
 * `a` under a multipart ETag, the transfer after the first request cut at 200 kB, and the object
 * replaced after two requests by `replacement` under another ETag.
 */
const replacedMidway = (
  name: string,
  extra: Partial<SimFile> = {},
  replacement: Buffer = b.body
): SimFile =>
  file(name, a.body, {
    etag: '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2"',
    faults: [{ pass: true }, { destroyAfter: 200_000 }],
    changeAfter: { requests: 2, body: bufferBody(replacement), etag: '"bbbbbbbbbbbbbbbb-2"' },
    ...extra
  })

const world = useWorld(
  {
    token: TOKEN,
    // As S3, a cap per connection (128 MiB/s): on an uncapped loopback link the first connection
    // is fast enough to take a large file alone (transfer/pace.ts), and nothing would be ranged.
    bytesPerSecond: 128 * 1024 * 1024,
    requests: [
      {
        id: 1,
        files: [
          file('1_md5.csv', a.body, { headers: SSE_S3 }),
          file('1_multipart.csv', a.body, { etag: `"${md5(a.body)}-3"`, headers: S3 }),
          file('1_kms.csv', a.body, {
            etag: NOT_MD5,
            headers: { ...S3, 'x-amz-server-side-encryption': 'aws:kms' }
          }),
          file('1_dsse.csv', a.body, {
            etag: NOT_MD5,
            headers: { ...S3, 'x-amz-server-side-encryption': 'aws:kms:dsse' }
          }),
          file('1_ssec.csv', a.body, {
            etag: NOT_MD5,
            headers: { ...S3, 'x-amz-server-side-encryption-customer-algorithm': 'AES256' }
          }),
          file('1_none.csv', a.body, { etag: '' }),
          file('1_chunked.csv', a.body, { etag: '', chunked: true })
        ]
      },
      { id: 2, files: [file('2_1.csv', a.body, { corrupt: 1, headers: SSE_S3 })] },
      { id: 3, files: [file('3_1.csv', a.body, { corrupt: Infinity, headers: SSE_S3 })] },
      // Not S3 (no x-amz-* header): a 32-hex ETag that is not the MD5 of what it serves.
      { id: 4, files: [file('4_1.csv', a.body, { etag: NOT_MD5 })] },
      // Not S3, a real MD5 ETag, one corrupted transfer: the second copy matches the MD5.
      { id: 5, files: [file('5_1.csv', a.body, { corrupt: 1 })] },
      {
        id: 6,
        files: [{ name: '6_1.csv', body: large.body, corrupt: 1, headers: SSE_S3 }]
      },
      {
        id: 7,
        files: [
          file('7_1.csv', a.body, {
            closeDelimited: true,
            etag: `"${md5(a.body)}-2"`,
            // The probe, the direct reader's request it hands on (when on), then the cut copy.
            faults: [
              { pass: true },
              ...(DIRECT ? [{ pass: true as const }] : []),
              { destroyAfter: 200_000 }
            ]
          })
        ]
      },
      { id: 8, files: [file('8_1.csv', a.body, { closeDelimited: true })] },
      { id: 9, files: [replacedMidway('9_1.csv')] },
      { id: 10, files: [replacedMidway('10_1.csv', { ignoreIfRange: true })] },
      {
        id: 11,
        files: [
          replacedMidway(
            '11_1.csv',
            { ignoreIfRange: true },
            // Same size, other bytes: only the ETag of the 206 tells the versions apart.
            Buffer.from(a.body.toString('latin1').toUpperCase(), 'latin1')
          )
        ]
      },
      { id: 12, files: [file('12_1.csv', c.body, { etag: NOT_MD5, closeDelimited: true })] }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files', [Inputs.StallTimeout]: '2s' } }
)

function run(id: number, extra: Record<string, string> = {}): Promise<ActionRun> {
  return world.run({ [Inputs.RequestId]: String(id), ...extra }, { timeoutMs: 120_000 })
}

const dirOf = (result: ActionRun, id: number): string =>
  path.join(result.workspace, 'datafiniti', String(id))

function manifestChecks(result: ActionRun, id: number): Record<string, string> {
  const manifest = JSON.parse(
    readFileSync(path.join(dirOf(result, id), MANIFEST_NAME), 'utf8')
  ) as { files: { name: string; integrity: string }[] }
  return Object.fromEntries(manifest.files.map(f => [f.name, f.integrity]))
}

/**
 * Files whose bodies come chunked or end with the connection: the direct socket reader takes
 * neither, and hands each such request to @actions/http-client, which asks again.
 */
const UNFRAMED = new Set(['1_chunked.csv', '7_1.csv', '8_1.csv', '12_1.csv'])

/**
 * The requests of the download itself: without the disk check's one-byte size probe, nor a
 * direct-reader request (no Connection header; @actions/http-client sends keep-alive) for an
 * unframed body, which it did not read.
 */
const transfers = (name: string) =>
  world.sim.log.filter(
    e =>
      e.server === 'files' &&
      e.path.includes(`/${name}?`) &&
      e.headers.range !== 'bytes=0-0' &&
      !(UNFRAMED.has(name) && e.headers.connection === undefined)
  )
const gets = (name: string): number => transfers(name).length

function expectSuccess(result: ActionRun, hashes: string[]): void {
  expect(result.code, printed(result)).toBe(0)
  expect(fileHashes(result)).toEqual(hashes)
  world.expectNoSecrets(result)
}

/**
 * Runs request `id` and checks that its one file, `<id>_1.csv`, came out as `data` after `copies`
 * transfers and was checked by `check`.
 */
async function runOneFile(
  id: number,
  data: Buffer,
  copies: number,
  check: string,
  extra: Record<string, string> = {}
): Promise<ActionRun> {
  const result = await run(id, extra)
  expectSuccess(result, [sha256(data)])
  expect(gets(`${id}_1.csv`)).toBe(copies)
  expect(manifestChecks(result, id)).toEqual({ [`${id}_1.csv`]: check })
  return result
}

describe('which check each file gets', () => {
  it('MD5 for a plain ETag (SSE-S3 too); length for multipart, SSE-KMS, DSSE-KMS, SSE-C and no ETag; none when chunked', async () => {
    const result = await run(1)
    expectSuccess(result, Array(7).fill(sha256(a.body)) as string[])
    const expected = {
      '1_md5.csv': 'md5',
      '1_multipart.csv': 'length',
      '1_kms.csv': 'length',
      '1_dsse.csv': 'length',
      '1_ssec.csv': 'length',
      '1_none.csv': 'length',
      '1_chunked.csv': 'none'
    }
    expect(manifestChecks(result, 1)).toEqual(expected)
    // One transfer each: an encrypted object's ETag is never taken for a failed MD5.
    for (const name of Object.keys(expected)) expect(gets(name), name).toBe(1)
    expect(annotations(result, 'warning')).toEqual([])
    // Which check, in the debug log and in the summary's Check column.
    expect(result.stdout).toMatch(
      /::debug::1_md5\.csv: checked by md5 \(plain ETag of an S3 object\)/
    )
    expect(result.stdout).toMatch(
      /::debug::1_kms\.csv: checked by length \(the ETag of an aws:kms \(SSE-KMS\) object is no MD5\)/
    )
    expect(result.stdout).toMatch(
      /::debug::1_ssec\.csv: checked by length \(the ETag of an SSE-C object is no MD5\)/
    )
    expect(result.stdout).toMatch(
      /::debug::1_multipart\.csv: checked by length \(a multipart ETag is no MD5\)/
    )
    expect(result.summary).toContain('| Check |')
    for (const [name, check] of Object.entries(expected)) {
      const shown = check === 'md5' ? 'MD5' : check
      expect(result.summary).toMatch(
        new RegExp(`\\| \`${name.replace('.', '\\.')}\` \\|.*\\| ${shown} \\|\\n`)
      )
    }
  })
})

describe('a corrupted body (full length, one byte flipped)', () => {
  it('once: refetched, and the second copy passes the MD5', async () => {
    const result = await runOneFile(2, a.body, 2, 'md5')
    expect(annotations(result, 'warning').join('\n')).toMatch(/2_1\.csv.*does not match the ETag/)
  })

  it('always: fails naming the file after the retries, and leaves nothing behind', async () => {
    const result = await run(3, { [Inputs.MaxRetries]: '2' })
    expect(result.code).not.toBe(0)
    expect(failureOf(result)).toMatch(
      /Could not download 3_1\.csv .*its MD5 [0-9a-f]{32} does not match the ETag/
    )
    expect(gets('3_1.csv')).toBe(3)
    const dir = dirOf(result, 3)
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
    world.expectNoSecrets(result)
  })

  it('in a large file that comes in ranges: the MD5 of the assembled file catches it', async () => {
    const result = await run(6, { [Inputs.Concurrency]: '4' })
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([large.sha256])
    expect(result.stdout).toMatch(/6_1\.csv: \d+ parts of up to/)
    expect(annotations(result, 'warning').join('\n')).toMatch(/6_1\.csv.*does not match the ETag/)
    expect(manifestChecks(result, 6)).toEqual({ '6_1.csv': 'md5' })
    expect(partFiles(dirOf(result, 6))).toEqual([])
  })
})

describe('a host that does not say it is S3', () => {
  it('an ETag that is not the MD5: two identical copies, accepted by length with a warning', async () => {
    const result = await runOneFile(4, a.body, 2, 'length', { [Inputs.MaxRetries]: '5' })
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /4_1\.csv: its MD5 does not match the ETag 5d41402abc4b2a76b9719d911017c592 in two identical copies: this host's ETag is not an MD5/
    )
  })

  it('a real MD5 ETag and one corrupted copy: the second copy differs, matches the MD5, and passes', async () => {
    await runOneFile(5, a.body, 2, 'md5')
  })
})

describe('a body ended by a bare connection close (no Content-Length, not chunked)', () => {
  it('with no MD5: a copy cut short is not taken for complete; two identical copies are', async () => {
    // Cut copy, a whole one that differs from it, a whole one that matches that one.
    const result = await runOneFile(7, a.body, 3, 'none')
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /7_1\.csv: the host sent it with no length and no MD5, ending it by closing the connection/
    )
  })

  it('with a plain MD5 ETag: checked by the MD5, one transfer', async () => {
    await runOneFile(8, a.body, 1, 'md5')
  })

  it('with an ETag that is no MD5: two identical copies, accepted with a warning', async () => {
    await runOneFile(12, c.body, 2, 'none')
  })
})

describe('an object replaced on the host between two requests', () => {
  it('If-Range answered with 200: the file restarts, and the result is the new object whole', async () => {
    const result = await run(9)
    expectSuccess(result, [sha256(b.body)])
    const requests = transfers('9_1.csv')
    expect(requests).toHaveLength(2)
    expect(requests[1]?.headers['if-range']).toBe('"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-2"')
    expect(requests[1]?.status).toBe(200)
  })

  it('a host that ignores If-Range and answers a Content-Range of the new object: restarted, new object whole', async () => {
    const result = await run(10)
    expectSuccess(result, [sha256(b.body)])
    const requests = transfers('10_1.csv')
    expect(requests.map(e => e.status)).toEqual([200, 206, 200])
    expect(requests[2]?.headers.range).toBeUndefined()
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /10_1\.csv.*not at byte \d+ of the same file/
    )
  })

  it('same size, other bytes, If-Range ignored: the 206 of another ETag is not appended', async () => {
    const result = await run(11)
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([
      sha256(Buffer.from(a.body.toString('latin1').toUpperCase(), 'latin1'))
    ])
    const requests = transfers('11_1.csv')
    expect(requests.map(e => e.status)).toEqual([200, 206, 200])
  })
})
