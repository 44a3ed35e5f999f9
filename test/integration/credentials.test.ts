/**
 * Every credential stays out of what the user can read, through dist/index.js: the URLs a refresh
 * hands out (S3, CloudFront and Google Cloud Storage signature names), a presigned URL made with
 * temporary credentials (`X-Amz-Security-Token`), and a token holding `+`, `/` and `=`, raw and
 * URL-encoded. Also what else comes from outside: the manifest's `.part` is not followed if it is a
 * symlink, the job summary shows a server's Markdown as text, and matrix legs with one query and
 * two tokens each recall their own download on a re-run.
 */
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { MANIFEST_NAME } from '../../src/domain/model.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { SIM_SECURITY_TOKEN } from '../../sim/signed-urls.js'
import { failureOf, printed, type ActionRun } from '../../sim/runner.js'
import { bufferBody, type SimFile } from '../../sim/simulator.js'
import type { SignatureStyle } from '../../sim/types.js'
import { maskedValues } from '../helpers/masks.js'
import { fileHashes, useWorld } from '../helpers/world.js'

// `+`, `/` and `=`: its URL-encoded form (in a v3 file path) differs from it.
const TOKEN = 'tok+Cr3d/ent1al=s+/=='
const OTHER_ACCOUNT = 'tok_second_account_77'
const csv = awkwardCsv(300, 91)
const LINK = '[Re-authenticate](https://example.invalid)'
const IMAGE = '![](https://example.invalid/x.png)'

const file = (name: string, extra: Partial<SimFile> = {}): SimFile => ({
  name,
  body: bufferBody(csv.body),
  ...extra
})

/** The signature parameter each style signs with. */
const SIGNATURE: Record<SignatureStyle, string> = {
  amz: 'X-Amz-Signature',
  'amz-token': 'X-Amz-Signature',
  signature: 'Signature',
  goog: 'X-Goog-Signature'
}
/** First style → refreshed style: the refreshed URLs are told apart by their signature's name. */
const REFRESHES: [SignatureStyle, SignatureStyle][] = [
  ['goog', 'amz'],
  ['amz', 'signature'],
  ['signature', 'goog']
]

/**
 * v3 signs once per `/results` answer: the wait's list (expired), then the refresh. v4 signs on
 * every look at a complete download: the poll that sees it complete, the wait's list, then the
 * refresh.
 */
const refreshed = (
  id: number | string,
  first: SignatureStyle,
  then: SignatureStyle,
  v4: boolean
) => ({
  id,
  files: [
    file(`${id}_1.csv`, {
      expiredUrls: v4 ? 2 : 1,
      signatureStyles: v4 ? [first, first, then] : [first, then]
    })
  ]
})

const world = useWorld(
  {
    token: TOKEN,
    otherAccounts: [OTHER_ACCOUNT],
    requests: [
      ...REFRESHES.map(([first, then], i) => refreshed(600 + i, first, then, false)),
      ...REFRESHES.map(([first, then], i) => refreshed(`v4-refresh-000${i}`, first, then, true)),
      { id: 610, files: [file('610_1.csv', { signatureStyles: ['amz-token'] })] },
      {
        id: 611,
        files: [file('611_1.csv', { signatureStyles: ['amz-token'], expiredUrls: 1_000 })]
      },
      { id: 612, files: [file('612_1.csv')] },
      {
        id: 613,
        pollsUntilComplete: 1,
        pendingStatus: `STARTED ${LINK}`,
        error: `${IMAGE} Query failed: ${LINK}`,
        files: []
      },
      // A file name holds no `/`: relative targets, live links all the same if rendered raw.
      { id: 614, files: [file('![](example.invalid) [Re-authenticate](example.invalid).csv')] }
    ],
    queries: {
      'country:US AND category:hotels': {
        numFound: 300,
        pollsUntilComplete: 12,
        files: id => [file(`${id}_1.csv`)]
      }
    }
  },
  { inputs: { [Inputs.Mode]: 'files' }, artifacts: true }
)

/** Everything of a run the user can read: the log (less the masks), summary, outputs but `urls`, manifest. */
function readable(run: ActionRun): string {
  const outputs = Object.entries(run.outputs).filter(([name]) => name !== Outputs.Urls)
  const dir = run.outputs[Outputs.DownloadPath]
  let manifest = ''
  try {
    manifest = dir ? readFileSync(path.join(dir, MANIFEST_NAME), 'utf8') : ''
  } catch {
    manifest = ''
  }
  return [printed(run), run.summary, JSON.stringify(outputs), manifest].join('\n')
}

/** Each credential, as it is and URL-encoded (as a form or a path would carry it). */
function forms(secret: string): string[] {
  return [
    ...new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ x: secret }).toString().slice(2)
    ])
  ]
}

function expectNoTrace(run: ActionRun, secrets: readonly string[]): void {
  const text = readable(run)
  for (const secret of secrets) for (const form of forms(secret)) expect(text).not.toContain(form)
}

/** The file requests whose URL a refresh signed, by the signature parameter only it has. */
function refreshedRequests(name: string, style: SignatureStyle): URL[] {
  return world.sim.log
    .filter(entry => entry.server === 'files' && entry.path.includes(`/${name}?`))
    .map(entry => new URL(entry.path, 'http://files'))
    .filter(url => url.searchParams.has(SIGNATURE[style]))
}

describe('URLs handed out by a refresh', () => {
  it.each(
    REFRESHES.flatMap(([first, then], i) => [
      ['v3', String(600 + i), first, then] as const,
      ['v4', `v4-refresh-000${i}`, first, then] as const
    ])
  )(
    '%s, %s: %s URLs expire, refreshed %s URLs are masked on arrival and leave no trace',
    async (version, id, _first, then) => {
      const run = await world.run({ [Inputs.RequestId]: id, [Inputs.ApiVersion]: version })
      expect(run.code, printed(run)).toBe(0)
      expect(fileHashes(run)).toEqual([sha256(csv.body)])
      const urls = refreshedRequests(`${id}_1.csv`, then)
      // The refresh happened, and its URL is what fetched the file.
      expect(urls.length).toBeGreaterThan(0)
      const signatures = urls.map(url => url.searchParams.get(SIGNATURE[then]) ?? '')
      const masked = maskedValues(run)
      for (const signature of signatures) expect(masked).toContain(signature)
      // The path holds the token (v3 style), URL-encoded: neither it nor the query shows anywhere.
      expectNoTrace(run, [...signatures, ...urls.map(url => `${url.pathname}${url.search}`), TOKEN])
      for (const url of urls) expect(readable(run)).not.toContain(url.pathname)
      world.expectNoSecrets(run)
    }
  )
})

describe('credentials that URL-encoding changes', () => {
  it('a presigned URL with X-Amz-Security-Token and a token with + / =: no trace, raw or encoded', async () => {
    const run = await world.run({ [Inputs.RequestId]: '610' })
    expect(run.code, printed(run)).toBe(0)
    expect(fileHashes(run)).toEqual([sha256(csv.body)])
    // Both forms of the session token are masked for later steps.
    expect(maskedValues(run)).toEqual(
      expect.arrayContaining([SIM_SECURITY_TOKEN, encodeURIComponent(SIM_SECURITY_TOKEN)])
    )
    expect(maskedValues(run)).toContain(encodeURIComponent(TOKEN))
    expectNoTrace(run, [SIM_SECURITY_TOKEN, TOKEN, Buffer.from(`${TOKEN}:`).toString('base64')])
    world.expectNoSecrets(run)
  })

  it('and when the host refuses that URL for good, the failure shows neither', async () => {
    const run = await world.run({ [Inputs.RequestId]: '611', [Inputs.MaxRetries]: '1' })
    expect(run.code).not.toBe(0)
    expect(failureOf(run)).toMatch(
      /refused 611_1\.csv from 127\.0\.0\.1:\d+\/…\/611_1\.csv: HTTP 403/
    )
    expectNoTrace(run, [SIM_SECURITY_TOKEN, TOKEN])
    world.expectNoSecrets(run)
  })
})

describe("the manifest's temporary file", () => {
  it('is not followed when a symlink already has its name', async () => {
    const workspace = mkdtempSync(path.join(tmpdir(), 'ws-manifest-'))
    const dir = path.join(workspace, 'datafiniti', '612')
    mkdirSync(dir, { recursive: true })
    const victim = path.join(workspace, 'victim.txt')
    writeFileSync(victim, 'untouched\n')
    symlinkSync(victim, path.join(dir, `${MANIFEST_NAME}.part`))
    const run = await world.run({ [Inputs.RequestId]: '612' }, { workspace })
    expect(run.code, printed(run)).toBe(0)
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n')
    const manifest = path.join(dir, MANIFEST_NAME)
    expect(lstatSync(manifest).isFile()).toBe(true)
    expect(JSON.parse(readFileSync(manifest, 'utf8'))).toMatchObject({ requestId: '612' })
    expect(() => lstatSync(`${manifest}.part`)).toThrow(/ENOENT/)
  })
})

describe('Markdown from the server in the job summary', () => {
  /** Every `example.invalid` inside a code span: no link, image or autolink is live. */
  function expectInert(markdown: string): void {
    expect(markdown).toContain('example.invalid')
    const outside = markdown.replace(/(`+)[^`]*?\1/g, '')
    expect(outside).not.toContain('example.invalid')
  }

  it('a status and an error with link and image syntax render as text', async () => {
    const run = await world.run({ [Inputs.RequestId]: '613' })
    expect(run.code).not.toBe(0)
    expect(run.summary).toContain('Re-authenticate')
    expectInert(run.summary)
  })

  it('a file name with link and image syntax renders as text', async () => {
    const run = await world.run({ [Inputs.RequestId]: '614' })
    expect(run.code, printed(run)).toBe(0)
    expect(run.summary).toContain('Re-authenticate')
    expectInert(run.summary)
  })
})

describe('matrix legs: one query, two tokens (accounts)', () => {
  it('a re-run of each leg recalls the download that leg created', async () => {
    const inputs = {
      [Inputs.Query]: 'country:US AND category:hotels',
      [Inputs.DataType]: 'businesses',
      [Inputs.NumRecords]: '300',
      [Inputs.WaitTimeout]: '150ms'
    }
    const step = { GITHUB_ACTION: 'fetch-hotels' }
    const legs = [TOKEN, OTHER_ACCOUNT]
    const created = world.sim.created.length
    const ids: string[] = []
    for (const token of legs) {
      const attempt1 = await world.run(
        { ...inputs, [Inputs.Token]: token },
        { env: { ...world.backend.envFor({ runId: '7700' }), ...step } }
      )
      expect(failureOf(attempt1)).toMatch(/wait-timeout/)
      ids.push(attempt1.outputs[Outputs.RequestId] ?? '')
    }
    // Each leg bought its own download: the second did not pick up the first's.
    expect(world.sim.created.length - created).toBe(2)
    expect(new Set(ids).size).toBe(2)
    for (const [i, token] of legs.entries()) {
      const attempt2 = await world.run(
        { ...inputs, [Inputs.Token]: token, [Inputs.WaitTimeout]: '1m' },
        { env: { ...world.backend.envFor({ runId: '7700', attempt: 2 }), ...step } }
      )
      expect(attempt2.code, printed(attempt2)).toBe(0)
      expect(attempt2.outputs[Outputs.RequestId]).toBe(ids[i])
      expect(attempt2.stdout).toContain(`Reusing download request ${ids[i] ?? ''}`)
    }
    expect(world.sim.created.length - created).toBe(2)
    for (const entry of world.backend.cache.entries) {
      for (const token of legs)
        for (const form of forms(token)) expect(entry.key).not.toContain(form)
    }
  })
})
