/**
 * The file host over HTTPS, as S3 is, with a certificate from a throw-away CA that the action trusts
 * only through NODE_EXTRA_CA_CERTS; the API stays plain http on loopback, so one run mixes both
 * schemes (one shared HTTP client once sent the https file URLs to its http agent).
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/domain/action-io.js'
import { awkwardCsv, csvParts, sha256 } from '../../sim/data.js'
import { failureOf, printed } from '../../sim/runner.js'
import { bufferBody, repeatBody } from '../../sim/simulator.js'
import { useThrowawayCa } from '../helpers/tls.js'
import { fileHashes, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_tls_41c9e2aa07'
const MiB = 1024 * 1024
const csvA = awkwardCsv(6_000, 81)
const csvB = awkwardCsv(400, 82)
const { header, block } = csvParts(2000, 83)
const times = Math.ceil((70 * MiB) / block.length)
const large = repeatBody(header, block, times)
const largeSha = (() => {
  const hash = createHash('sha256').update(header)
  for (let i = 0; i < times; i++) hash.update(block)
  return hash.digest('hex')
})()

const ca = useThrowawayCa()
const world = useWorld(
  {
    token: TOKEN,
    tls: { key: ca.key, cert: ca.cert },
    // As S3, a cap per connection (128 MiB/s): uncapped, the first connection can be fast enough
    // to take the large file alone (transfer/pace.ts), and nothing would be ranged.
    bytesPerSecond: 128 * 1024 * 1024,
    requests: [
      {
        id: 1,
        files: [
          { name: '1_1.csv', body: bufferBody(csvA.body) },
          { name: '1_2.csv', body: bufferBody(csvB.body) }
        ]
      },
      {
        id: 2,
        files: [
          {
            name: '2_1.csv',
            body: bufferBody(csvA.body),
            faults: [{ pass: true }, { destroyAfter: 150_000 }]
          }
        ]
      },
      { id: 3, files: [{ name: '3_1.csv', body: large }] }
    ]
  },
  { inputs: { [Inputs.Mode]: 'files' } }
)

const trusted = { NODE_EXTRA_CA_CERTS: ca.caFile }

describe('a file host on HTTPS', () => {
  it('downloads over TLS while the API is plain http on loopback', async () => {
    expect(world.sim.fileOrigin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect(world.sim.apiUrl).toMatch(/^http:\/\//)
    world.sim.fileConnections.opened = 0
    const result = await world.run({ [Inputs.RequestId]: '1' }, { env: trusted })
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(csvA.body), sha256(csvB.body)])
    // Each file's size probe and download share a connection: one handshake per file, not two.
    const files = world.sim.log.filter(e => e.server === 'files' && e.path.includes('/1_'))
    expect(files.length).toBe(4)
    expect(world.sim.fileConnections.opened).toBe(2)
    world.expectNoSecrets(result)
  })

  it('resumes a cut transfer with a range over TLS', async () => {
    const result = await world.run({ [Inputs.RequestId]: '2' }, { env: trusted })
    expect(result.code, printed(result)).toBe(0)
    expect(fileHashes(result)).toEqual([sha256(csvA.body)])
    expect(result.stdout).toMatch(/2_1\.csv: resuming at byte [1-9]\d* of \d+/)
    // The resume, after the disk check's one-byte size probe.
    const ranges = world.sim.log.filter(e => e.path.includes('/2_1.csv?') && e.headers.range)
    expect(ranges.map(e => [e.headers.range === 'bytes=0-0', e.status])).toEqual([
      [true, 206],
      [false, 206]
    ])
  })

  it('downloads a large file as parallel ranges over TLS', async () => {
    const result = await world.run(
      { [Inputs.RequestId]: '3', [Inputs.Concurrency]: '4' },
      { env: trusted, timeoutMs: 120_000 }
    )
    expect(result.code, printed(result)).toBe(0)
    expect(result.stdout).toMatch(/3_1\.csv: \d+ parts of up to \d+ MiB over up to 4 connections/)
    expect(fileHashes(result)).toEqual([largeSha])
  })

  it('checks the certificate: without the CA the file host is not trusted', async () => {
    const result = await world.run({ [Inputs.RequestId]: '1', [Inputs.MaxRetries]: '0' })
    expect(result.code).not.toBe(0)
    // Both files are refused; whichever of the concurrent transfers fails first is reported.
    expect(failureOf(result)).toMatch(
      /Could not download 1_[12]\.csv .*(self-signed|unable to (get|verify))/i
    )
    world.expectNoSecrets(result)
  })
})
