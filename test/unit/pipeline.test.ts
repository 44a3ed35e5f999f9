import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { Readable } from 'node:stream'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { shardOf } from '../../src/domain/model.js'
import type { ArtifactResult } from '../../src/deliver/artifact.js'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { parseSettings, type Settings } from '../../src/inputs/settings.js'
import { runPipeline } from '../../src/pipeline.js'
import { localFiles } from '../../src/report/report.js'
import { newRunState, renderFailureSummary } from '../../src/report/failure-summary.js'
import type { Manifest } from '../../src/report/manifest.js'
import type { Ports } from '../../src/ports.js'
import type { Artifacts } from '../../src/deliver/artifact.js'
import type { RequestMemory } from '../../src/api/create-once.js'
import type { MarkStore } from '../../src/api/marks.js'
import type { Mark } from '../../src/domain/window.js'
import type { Runner } from '../../src/support/log.js'
import { testHasher } from '../helpers/hasher.js'
import { FatalError } from '../../src/support/errors.js'
import { finalMessage } from '../../src/support/failure-text.js'
import { assignFileNames } from '../../src/transfer/file-names.js'
import {
  streamBody,
  type Http,
  type StreamResponse,
  type TextResponse
} from '../../src/http/transport.js'
import { fakeClock } from '../helpers/clock.js'
import { inputEnv, queryInputs } from '../helpers/inputs.js'

/**
 * The orchestration, driven through pipeline.ts with plain objects for every port: no server, no
 * runner, no artifact service. Each test names the decision it pins down.
 */

const TOKEN = 'tok_pipeline_secret'
const API = 'https://api.example'
const NOW = Date.UTC(2026, 11, 1, 12)
const CSV = 'id,name\n1,a\n2,"b\nc"\n'

type Answer = TextResponse | Error
type FileAnswer = { status: number; body: string; headers?: Record<string, string> } | Error

/** A fake Http: answers by method and path, and records every request in one event log. */
function fakeHttp(events: string[]) {
  const text = new Map<string, Answer[]>()
  const files = new Map<string, FileAnswer[]>()
  const next = <T>(queue: T[] | undefined, what: string): T => {
    const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0]
    if (answer === undefined) throw new Error(`unexpected request ${what}`)
    return answer
  }
  const http: Http = {
    getText: (url, headers) => {
      const { pathname } = new URL(url)
      events.push(`GET ${pathname}`)
      expect(headers['Authorization']).toBeOneOf([
        `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`,
        `Bearer ${TOKEN}`
      ])
      const answer = next(text.get(`GET ${pathname}`), `GET ${pathname}`)
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
    },
    // v4: a search, told apart by whether it asks for a download (a create) or not (a count).
    postText: (url, headers, body) => {
      const { pathname } = new URL(url)
      expect(headers['Authorization']).toBe(`Bearer ${TOKEN}`)
      const kind = (JSON.parse(body) as { download?: boolean }).download ? 'create' : 'count'
      events.push(`POST ${pathname} ${kind}`)
      const answer = next(text.get(`POST ${pathname} ${kind}`), `POST ${pathname} ${kind}`)
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)
    },
    getStream: (url, headers) => {
      const { pathname } = new URL(url)
      events.push(`FILE ${pathname}${headers['Range'] ? ` ${headers['Range']}` : ''}`)
      expect(headers['Authorization']).toBeUndefined()
      const answer = next(files.get(pathname), `FILE ${pathname}`)
      if (answer instanceof Error) return Promise.reject(answer)
      const body = streamBody(Readable.from([Buffer.from(answer.body)]))
      const res: StreamResponse = {
        status: answer.status,
        headers: { 'content-length': String(Buffer.byteLength(answer.body)), ...answer.headers },
        body
      }
      return Promise.resolve(res)
    }
  }
  return {
    http,
    answer: (key: string, ...answers: Answer[]) => text.set(key, answers),
    file: (pathname: string, ...answers: FileAnswer[]) => files.set(pathname, answers)
  }
}

const json = (status: number, body: unknown, headers = {}): TextResponse => ({
  status,
  headers,
  text: JSON.stringify(body)
})
const completed = json(200, {
  status: 'COMPLETED',
  numDownloaded: 2,
  numRequested: 2,
  dataFormat: 'CSV'
})
/** v3's answer to a create: a redirect to the new request. */
const createdAs = (id: string): TextResponse => ({
  status: 303,
  headers: { location: `/v3/requests/${id}` },
  text: ''
})
const resultsFor = (...names: string[]) =>
  json(
    200,
    names.map(name => ({
      url: `https://files.example/bucket/${name}?X-Amz-Signature=sig_${name.replace(/\W/g, '')}_0123456789`,
      date_created: '2026-11-30 12:00:00'
    }))
  )

function recordingRunner(events: string[]) {
  const outputs: Record<string, string> = {}
  const warnings: string[] = []
  const secrets: string[] = []
  const summaries: string[] = []
  const infos: string[] = []
  const runner: Runner = {
    info: message => infos.push(message),
    debug: () => undefined,
    warning: message => {
      warnings.push(message)
      events.push(`warning`)
    },
    group: async (name, fn) => {
      events.push(`group ${name}`)
      return fn()
    },
    setOutput: (name, value) => {
      outputs[name] = value
      events.push(`output ${name}`)
    },
    setSecret: secret => secrets.push(secret),
    summary: markdown => {
      summaries.push(markdown)
      return Promise.resolve()
    }
  }
  return { runner, outputs, warnings, secrets, summaries, infos }
}

function fakeArtifacts(events: string[], blocker?: string, existing: string[] = []) {
  const uploads: { name: string; files: string[] }[] = []
  const taken = new Map(existing.map((name, i) => [name, 7 + i]))
  const artifacts: Artifacts = {
    blocker: () => blocker,
    find: name => {
      events.push(`find ${name}`)
      return Promise.resolve(taken.get(name))
    },
    remove: name => {
      events.push(`delete ${name}`)
      const id = taken.get(name)
      taken.delete(name)
      return id === undefined ? Promise.reject(new Error('not found')) : Promise.resolve(id)
    },
    upload: (name, files) => {
      events.push(`upload ${name}`)
      uploads.push({ name, files: [...files] })
      const result: ArtifactResult = { id: 42, size: 10, digest: 'sha256:ab', url: undefined }
      return Promise.resolve(result)
    }
  }
  return { artifacts, uploads }
}

let workspace: string
beforeEach(async () => {
  workspace = await mkdtemp(path.join(tmpdir(), 'pipeline-'))
})
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true })
})

/** A RequestMemory over a Map; `broken` makes every call fail, as a cache outage does. */
function fakeMemory(events: string[], remembered: Record<string, string> = {}, broken = false) {
  const saved = new Map(Object.entries(remembered))
  const memory: RequestMemory = {
    unavailable: () => undefined,
    recall: key => {
      events.push(`recall ${key}`)
      return broken ? Promise.reject(new Error('cache down')) : Promise.resolve(saved.get(key))
    },
    remember: (key, id) => {
      events.push(`remember ${key} ${id}`)
      if (broken) return Promise.reject(new Error('cache down'))
      saved.set(key, id)
      return Promise.resolve()
    }
  }
  return { memory, saved }
}

interface WorldOptions {
  blocker?: string
  now?: number
  /** Names of artifacts already on the run. */
  existing?: string[]
  env?: Record<string, string>
  remembered?: Record<string, string>
  memoryBroken?: boolean
  freeBytes?: number
  marks?: MarkStore
}

/** A mark store that must not be asked: runs without `since: last-success`. */
const noMarks: MarkStore = {
  cacheUnavailable: () => 'no cache in this test',
  fromCache: () => Promise.reject(new Error('marks asked')),
  fromDurable: () => Promise.reject(new Error('marks asked')),
  toCache: () => Promise.reject(new Error('marks asked')),
  toDurable: () => Promise.reject(new Error('marks asked'))
}

function world(inputs: Record<string, string>, options: WorldOptions = {}) {
  const events: string[] = []
  const all = {
    [Inputs.Token]: TOKEN,
    [Inputs.ApiUrl]: API,
    [Inputs.PollInterval]: '1s',
    ...inputs
  }
  const settings = parseSettings(
    inputEnv(all, { GITHUB_WORKSPACE: workspace, ...options.env }),
    workspace
  )
  const http = fakeHttp(events)
  const run = recordingRunner(events)
  const art = fakeArtifacts(events, options.blocker, options.existing)
  const mem = fakeMemory(events, options.remembered, options.memoryBroken)
  const clock = fakeClock(options.now ?? NOW)
  const wrongRole = (): Promise<never> => Promise.reject(new Error('sent through the wrong client'))
  const ports: Ports = {
    // API calls through the API's client only, files through the file hosts' only.
    http: {
      api: { ...http.http, getStream: wrongRole },
      files: { ...http.http, getText: wrongRole, postText: wrongRole }
    },
    clock,
    runner: run.runner,
    artifacts: art.artifacts,
    memory: mem.memory,
    marks: options.marks ?? noMarks,
    signal: new AbortController().signal,
    hasher: testHasher,
    disk: {
      freeBytes: dir => {
        events.push(`statfs ${dir}`)
        return Promise.resolve(options.freeBytes ?? 1e12)
      }
    }
  }
  return { settings, ports, events, http, clock, ...run, ...art, ...mem }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return finalMessage(error, [TOKEN])
  }
  throw new Error('expected the pipeline to fail')
}

describe('runPipeline', () => {
  it('sets request-id before waiting and status once complete; urls mode downloads nothing', async () => {
    const w = world({ [Inputs.RequestId]: '6073', [Inputs.Mode]: 'urls' })
    w.http.answer(
      'GET /v3/requests/6073',
      json(200, { status: 'STARTED', numDownloaded: 1, numRequested: 2 }),
      completed
    )
    w.http.answer('GET /v3/results/6073', resultsFor('6073_1.csv'))
    const report = await runPipeline(w.settings, w.ports)
    expect(w.events.indexOf('output request-id')).toBeLessThan(
      w.events.indexOf('GET /v3/requests/6073')
    )
    expect(w.events.indexOf('output status')).toBeGreaterThan(
      w.events.lastIndexOf('GET /v3/requests/6073')
    )
    expect(w.events.filter(e => e.startsWith('FILE'))).toEqual([])
    expect(w.clock.sleeps).toEqual([1000])
    expect(localFiles(report)).toEqual([])
    expect(JSON.parse(w.outputs[Outputs.Urls] ?? '[]')).toHaveLength(1)
    expect(w.outputs[Outputs.FileCount]).toBe('1')
    // The URL, its path and its signature are masked for later steps, as the URL arrived; the
    // summary shows no URL query.
    expect(new Set(w.secrets)).toEqual(
      new Set([
        'https://files.example/bucket/6073_1.csv?X-Amz-Signature=sig_6073_1csv_0123456789',
        'https://files.example/bucket/6073_1.csv',
        '/bucket/6073_1.csv',
        'sig_6073_1csv_0123456789'
      ])
    )
    expect(w.summaries.join('')).not.toContain('sig_')
  })

  it('downloads every file into the default path, counts records and reports them late', async () => {
    const w = world({ [Inputs.RequestId]: '7', [Inputs.Mode]: 'files' })
    w.http.answer('GET /v3/requests/7', completed)
    w.http.answer('GET /v3/results/7', resultsFor('7_1.csv', '7_2.csv'))
    w.http.file('/bucket/7_1.csv', { status: 200, body: CSV })
    w.http.file('/bucket/7_2.csv', { status: 200, body: CSV })
    const report = await runPipeline(w.settings, w.ports)
    const dir = path.join(workspace, 'datafiniti', '7')
    expect(await readdir(dir)).toEqual(['7_1.csv', '7_2.csv', 'datafiniti-manifest.json'])
    expect(await readFile(path.join(dir, '7_1.csv'), 'utf8')).toBe(CSV)
    expect(localFiles(report).map(f => f.records)).toEqual([2, 2])
    // Records as the API counts them (numDownloaded); rows as the files hold them.
    expect(w.outputs[Outputs.RecordCount]).toBe('2')
    expect(w.outputs[Outputs.RowCount]).toBe('4')
    expect(w.outputs[Outputs.DownloadPath]).toBe(dir)
    expect(w.uploads).toEqual([])
    expect(w.events.at(-1)).toBe(`output ${Outputs.Manifest}`)
    expect(w.outputs[Outputs.Manifest]).toBe(path.join(dir, 'datafiniti-manifest.json'))
    const manifestText = await readFile(path.join(dir, 'datafiniti-manifest.json'), 'utf8')
    expect(manifestText).not.toContain('sig_')
    expect(manifestText).not.toContain('https://')
    const manifest = JSON.parse(manifestText) as Manifest
    expect(manifest).toMatchObject({
      version: 2,
      requestId: '7',
      apiVersion: 'v3',
      query: null,
      status: 'COMPLETED',
      writtenAt: new Date(NOW).toISOString(),
      // v3's date_created: when Datafiniti made the files.
      createdAt: '2026-11-30T12:00:00.000Z',
      expiresAt: '2026-12-07T12:00:00.000Z',
      totals: { files: 2, bytes: 2 * CSV.length, records: 2, rows: 4, credits: null },
      numFound: null
    })
    const sha256 = createHash('sha256').update(CSV).digest('hex')
    expect(manifest.files).toEqual(
      ['7_1.csv', '7_2.csv'].map(name => ({
        name,
        bytes: CSV.length,
        rows: 2,
        sha256,
        etag: null,
        integrity: 'length',
        createdAt: '2026-11-30T12:00:00.000Z',
        expiresAt: '2026-12-07T12:00:00.000Z'
      }))
    )
  })

  it('creates a download from a query once, and never sends the create again after it may have arrived', async () => {
    const query = {
      [Inputs.Query]: 'country:US',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: '10'
    }
    const ok = world({ ...query, [Inputs.Mode]: 'urls' })
    ok.http.answer('GET /v3/data/products', createdAs('88'))
    ok.http.answer('GET /v3/requests/88', completed)
    ok.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(ok.settings, ok.ports)
    expect(ok.events.filter(e => e === 'GET /v3/data/products')).toHaveLength(1)
    expect(ok.outputs[Outputs.RequestId]).toBe('88')

    const reset = world({ ...query, [Inputs.Mode]: 'urls' })
    const cut = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
    reset.http.answer('GET /v3/data/products', cut)
    const message = await failure(runPipeline(reset.settings, reset.ports))
    expect(message).toMatch(/may have reached Datafiniti.*It was not sent again/)
    expect(reset.events.filter(e => e === 'GET /v3/data/products')).toHaveLength(1)
    expect(reset.outputs[Outputs.RequestId]).toBeUndefined()
  })

  it('retries a create that provably never left (connection refused)', async () => {
    const w = world({
      [Inputs.Query]: 'x',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: 'all',
      [Inputs.Mode]: 'urls'
    })
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    w.http.answer('GET /v3/data/products', refused, createdAs('9'))
    w.http.answer('GET /v3/requests/9', completed)
    w.http.answer('GET /v3/results/9', resultsFor('9_1.csv'))
    await runPipeline(w.settings, w.ports)
    expect(w.events.filter(e => e === 'GET /v3/data/products')).toHaveLength(2)
    expect(w.warnings[0]).toMatch(/GET \/v3\/data\/products failed .*retry 1 of 5/)
  })

  it('asks /results again for a fresh URL when the file host refuses one (403), once', async () => {
    const w = world({ [Inputs.RequestId]: '5', [Inputs.Mode]: 'files' })
    w.http.answer('GET /v3/requests/5', completed)
    const fresh = json(200, [
      { url: 'https://files.example/bucket/5_1.csv?X-Amz-Signature=newsig_0123456789' }
    ])
    w.http.answer('GET /v3/results/5', resultsFor('5_1.csv'), fresh)
    w.http.file(
      '/bucket/5_1.csv',
      // The disk check's probe for the size.
      { status: 206, body: 'i', headers: { 'content-range': `bytes 0-0/${CSV.length}` } },
      {
        status: 403,
        body: '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>'
      },
      { status: 200, body: CSV }
    )
    const report = await runPipeline(w.settings, w.ports)
    expect(localFiles(report)[0]?.records).toBe(2)
    expect(w.events.filter(e => e === 'GET /v3/results/5')).toHaveLength(2)
    expect(w.events.filter(e => e.startsWith('FILE'))).toEqual([
      'FILE /bucket/5_1.csv bytes=0-0',
      'FILE /bucket/5_1.csv',
      'FILE /bucket/5_1.csv'
    ])
  })

  it('uploads the files as one artifact and sets the artifact outputs', async () => {
    const w = world({ [Inputs.RequestId]: '3' })
    w.http.answer('GET /v3/requests/3', completed)
    w.http.answer('GET /v3/results/3', resultsFor('3_1.csv'))
    w.http.file('/bucket/3_1.csv', { status: 200, body: CSV })
    await runPipeline(w.settings, w.ports)
    const dir = path.join(workspace, 'datafiniti', '3')
    expect(w.uploads).toEqual([
      {
        name: 'datafiniti-3',
        files: [path.join(dir, '3_1.csv'), path.join(dir, 'datafiniti-manifest.json')]
      }
    ])
    expect(w.outputs[Outputs.ArtifactId]).toBe('42')
    expect(w.outputs[Outputs.ArtifactDigest]).toBe('sha256:ab')
  })

  it('fails before any request where artifacts cannot be uploaded, unless files are the fallback', async () => {
    const blocked = world({ [Inputs.RequestId]: '3' }, { blocker: 'No artifacts here.' })
    await expect(runPipeline(blocked.settings, blocked.ports)).rejects.toThrow(FatalError)
    expect(blocked.events.filter(e => !e.startsWith('group'))).toEqual([])

    const kept = world(
      { [Inputs.RequestId]: '3', [Inputs.ArtifactFallback]: 'files' },
      { blocker: 'No artifacts here.' }
    )
    kept.http.answer('GET /v3/requests/3', completed)
    kept.http.answer('GET /v3/results/3', resultsFor('3_1.csv'))
    kept.http.file('/bucket/3_1.csv', { status: 200, body: CSV })
    const report = await runPipeline(kept.settings, kept.ports)
    expect(kept.warnings[0]).toMatch(/No artifacts here\. 'artifact-fallback: files' is set/)
    expect(kept.uploads).toEqual([])
    expect(localFiles(report)).toHaveLength(1)
    expect(kept.outputs[Outputs.ArtifactId]).toBeUndefined()
  })

  it('warns when the files expire within a day', async () => {
    const w = world(
      { [Inputs.RequestId]: '4', [Inputs.Mode]: 'files' },
      // date_created 2026-11-30 12:00 + 7 days: 20 hours from now.
      { now: Date.UTC(2026, 11, 6, 16) }
    )
    w.http.answer('GET /v3/requests/4', completed)
    w.http.answer('GET /v3/results/4', resultsFor('4_1.csv'))
    w.http.file('/bucket/4_1.csv', { status: 200, body: CSV })
    await runPipeline(w.settings, w.ports)
    expect(w.warnings).toEqual([
      expect.stringMatching(/expire at 2026-12-07T12:00:00.000Z, within 24 hours/)
    ])
  })

  it('names the file in a final download failure and leaves nothing behind', async () => {
    const w = world({ [Inputs.RequestId]: '6', [Inputs.Mode]: 'files', [Inputs.MaxRetries]: '1' })
    w.http.answer('GET /v3/requests/6', completed)
    w.http.answer('GET /v3/results/6', resultsFor('6_1.csv'))
    w.http.file('/bucket/6_1.csv', { status: 503, body: '<Error><Code>SlowDown</Code></Error>' })
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toMatch(
      /^Could not download 6_1\.csv from files\.example\/…\/6_1\.csv: .*HTTP 503 \(SlowDown\)/
    )
    // The disk check's probe, then the download and its one retry.
    expect(w.events.filter(e => e.startsWith('FILE'))).toEqual([
      'FILE /bucket/6_1.csv bytes=0-0',
      'FILE /bucket/6_1.csv',
      'FILE /bucket/6_1.csv'
    ])
    expect(await readdir(path.join(workspace, 'datafiniti', '6'))).toEqual([])
  })
})

describe('if-no-results: a COMPLETED download with no files, or with files holding no records', () => {
  const cases = [
    [
      'no result files',
      (w: ReturnType<typeof world>) => w.http.answer('GET /v3/results/8', json(200, []))
    ],
    [
      'files with no records',
      (w: ReturnType<typeof world>) => {
        w.http.answer('GET /v3/results/8', resultsFor('8_1.csv', '8_2.csv'))
        w.http.file('/bucket/8_1.csv', { status: 200, body: 'id,name\n' })
        w.http.file('/bucket/8_2.csv', { status: 200, body: 'id,name\r\n' })
      }
    ]
  ] as const
  const reasons = {
    'no result files': /request 8 is COMPLETED but lists no result files/,
    'files with no records':
      /Download 8 holds no records: its 2 file\(s\) are empty but for headers/
  }

  function emptyWorld(action: string, setUp: (w: ReturnType<typeof world>) => void) {
    const w = world({
      [Inputs.RequestId]: '8',
      ...(action === '' ? {} : { [Inputs.IfNoResults]: action })
    })
    w.http.answer('GET /v3/requests/8', completed)
    setUp(w)
    return w
  }

  async function expectNothingDelivered(w: ReturnType<typeof world>): Promise<void> {
    expect(w.uploads).toEqual([])
    expect(w.outputs[Outputs.FileCount]).toBe('0')
    expect(w.outputs[Outputs.Files]).toBe('[]')
    expect(w.outputs[Outputs.Urls]).toBe('[]')
    expect(w.outputs[Outputs.TotalBytes]).toBe('0')
    expect(w.outputs[Outputs.Manifest]).toBe('')
    expect(w.outputs[Outputs.ArtifactName]).toBeUndefined()
    expect(w.outputs[Outputs.ArtifactId]).toBeUndefined()
    // The header-only files are gone: the directory agrees with file-count 0.
    const dir = path.join(workspace, 'datafiniti', '8')
    expect(await readdir(dir).catch(() => [])).toEqual([])
  }

  it.each(cases)(
    'warn (the default), with %s: succeeds with file-count 0, a warning and no artifact',
    async (what, setUp) => {
      for (const action of ['', 'warn']) {
        const w = emptyWorld(action, setUp)
        await runPipeline(w.settings, w.ports)
        await expectNothingDelivered(w)
        expect(w.warnings).toEqual([expect.stringMatching(reasons[what])])
        expect(w.warnings[0]).toContain("'if-no-results: ignore'")
        expect(w.summaries.join('')).toMatch(/No results: /)
        await rm(path.join(workspace, 'datafiniti'), { recursive: true, force: true })
      }
    }
  )

  it.each(cases)('ignore, with %s: succeeds with file-count 0, quietly', async (what, setUp) => {
    const w = emptyWorld('ignore', setUp)
    const report = await runPipeline(w.settings, w.ports)
    await expectNothingDelivered(w)
    expect(w.warnings).toEqual([])
    expect(report.noResults).toMatch(reasons[what])
  })

  it.each(cases)('error, with %s: fails saying so, uploads nothing', async (what, setUp) => {
    const w = emptyWorld('error', setUp)
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toMatch(reasons[what])
    expect(message).toContain("as 'if-no-results: error' asks")
    expect(w.uploads).toEqual([])
    expect(w.outputs[Outputs.FileCount]).toBeUndefined()
  })

  it('leaves a download with some records alone, however many files are empty', async () => {
    const w = emptyWorld('error', () => undefined)
    w.http.answer('GET /v3/results/8', resultsFor('8_1.csv', '8_2.csv'))
    w.http.file('/bucket/8_1.csv', { status: 200, body: 'id,name\n' })
    w.http.file('/bucket/8_2.csv', { status: 200, body: CSV })
    await runPipeline(w.settings, w.ports)
    expect(w.outputs[Outputs.FileCount]).toBe('2')
    expect(w.outputs[Outputs.RowCount]).toBe('2')
    expect(w.uploads).toHaveLength(1)
  })
})

describe('how far a failed run got', () => {
  it('records the stage, the request and the files done, for a summary free of secrets', async () => {
    const w = world({ [Inputs.RequestId]: '6', [Inputs.Concurrency]: '1' })
    w.http.answer('GET /v3/requests/6', completed)
    // v3 file paths can hold the token itself.
    const url = (name: string) =>
      `https://files.example/${TOKEN}/${name}?X-Amz-Signature=sig_${name.replace(/\W/g, '')}_0123456789`
    w.http.answer(
      'GET /v3/results/6',
      json(200, [{ url: url('6_1.csv') }, { url: url('6_2.csv') }])
    )
    w.http.file(`/${TOKEN}/6_1.csv`, { status: 200, body: CSV })
    w.http.file(`/${TOKEN}/6_2.csv`, {
      status: 404,
      body: '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>'
    })
    const progress = newRunState()
    let message = ''
    try {
      await runPipeline(w.settings, w.ports, progress)
    } catch (error) {
      message = finalMessage(error, [TOKEN])
    }
    expect(progress).toMatchObject({
      stage: 'download',
      requestId: '6',
      status: 'COMPLETED',
      filesTotal: 2,
      filesDone: 1,
      bytesDone: CSV.length
    })
    const summary = renderFailureSummary(progress, message)
    expect(summary).toMatch(/^### Datafiniti download `6`: failed while downloading the files\n/)
    expect(summary).toMatch(
      /> `The file host has no 6_2\.csv \(files\.example\/…\/6_2\.csv\): HTTP 404/
    )
    expect(summary).toContain('1 of 2 file(s) downloaded and verified')
    expect(summary).not.toContain(TOKEN)
    expect(summary).not.toContain('sig_')
  })

  it('names the wait when the request failed at Datafiniti', async () => {
    const w = world({ [Inputs.RequestId]: '9', [Inputs.Mode]: 'urls' })
    w.http.answer(
      'GET /v3/requests/9',
      json(200, { status: 'STARTED', error: 'Query <b>bad</b> | x' })
    )
    const progress = newRunState()
    const message = await failure(runPipeline(w.settings, w.ports, progress))
    expect(progress).toMatchObject({ stage: 'wait', requestId: '9', filesTotal: undefined })
    const summary = renderFailureSummary(progress, message)
    expect(summary).toMatch(/^### Datafiniti download `9`: failed while waiting for the download/)
    // What the server said is in a code span, never raw Markdown or HTML.
    expect(summary).toMatch(/`[^`\n]*Query <b>bad<\/b> \| x[^`\n]*`/)
  })

  it('names the inputs stage before any request', async () => {
    const w = world({ [Inputs.RequestId]: '3' }, { blocker: 'No artifacts here.' })
    const progress = newRunState()
    const message = await failure(runPipeline(w.settings, w.ports, progress))
    expect(renderFailureSummary(progress, message)).toBe(
      '### Datafiniti download: failed while validating the inputs\n\n> `No artifacts here.`\n\n'
    )
  })
})

describe('re-runs', () => {
  const RUN = { GITHUB_RUN_ID: '4242', GITHUB_JOB: 'fetch', GITHUB_ACTION: 'datafiniti' }
  const query = {
    [Inputs.Query]: 'country:US',
    [Inputs.DataType]: 'products',
    [Inputs.NumRecords]: '10'
  }
  const created = createdAs

  it('fails before any request when the artifact name is taken on the run', async () => {
    const w = world({ [Inputs.RequestId]: '3' }, { existing: ['datafiniti-3'] })
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toBe(
      "An artifact named 'datafiniti-3' is already on this workflow run (from an earlier attempt " +
        "of a re-run, or another step). Set 'overwrite: true' to replace it, or give another 'artifact-name'."
    )
    expect(w.events.filter(e => !e.startsWith('group'))).toEqual(['find datafiniti-3'])
  })

  it('checks a given artifact-name before creating anything from a query', async () => {
    const w = world(
      { ...query, [Inputs.ArtifactName]: 'weekly' },
      { existing: ['weekly'], env: RUN }
    )
    await failure(runPipeline(w.settings, w.ports))
    expect(w.events.filter(e => !e.startsWith('group'))).toEqual(['find weekly'])
  })

  it('checks the default name of a created download once its id is known, before the wait', async () => {
    const w = world(query, { existing: ['datafiniti-88'], env: RUN })
    w.http.answer('GET /v3/data/products', created('88'))
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toMatch(/^An artifact named 'datafiniti-88' is already on this workflow run/)
    const events = w.events.filter(e => !e.startsWith('group') && !e.startsWith('output'))
    expect(events).toEqual([
      expect.stringMatching(/^recall datafiniti-request-4242-fetch-[0-9a-f]{32}$/),
      'GET /v3/data/products',
      expect.stringMatching(/^remember datafiniti-request-4242-fetch-[0-9a-f]{32} 88$/),
      'find datafiniti-88'
    ])
  })

  it('with overwrite, deletes the old artifact only once the new files are there', async () => {
    const w = world(
      { [Inputs.RequestId]: '3', [Inputs.Overwrite]: 'true' },
      { existing: ['datafiniti-3'] }
    )
    w.http.answer('GET /v3/requests/3', completed)
    w.http.answer('GET /v3/results/3', resultsFor('3_1.csv'))
    w.http.file('/bucket/3_1.csv', { status: 200, body: CSV })
    await runPipeline(w.settings, w.ports)
    const events = w.events.filter(e => /^(find|delete|upload|FILE)/.test(e))
    expect(events).toEqual([
      'find datafiniti-3',
      'FILE /bucket/3_1.csv bytes=0-0',
      'FILE /bucket/3_1.csv',
      'find datafiniti-3',
      'delete datafiniti-3',
      'upload datafiniti-3'
    ])
    expect(w.uploads).toHaveLength(1)
  })

  it('picks up the request an earlier attempt created instead of creating again', async () => {
    const first = world({ ...query, [Inputs.Mode]: 'urls' }, { env: RUN })
    first.http.answer('GET /v3/data/products', created('88'))
    first.http.answer('GET /v3/requests/88', completed)
    first.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(first.settings, first.ports)
    const key = first.settings.requestKey ?? ''
    expect(first.saved.get(key)).toBe('88')
    // remembered right after the create, before the first status request
    expect(first.events.indexOf(`remember ${key} 88`)).toBeLessThan(
      first.events.indexOf('GET /v3/requests/88')
    )

    const again = world(
      { ...query, [Inputs.Mode]: 'urls' },
      { env: { ...RUN, GITHUB_RUN_ATTEMPT: '2' }, remembered: { [key]: '88' } }
    )
    again.http.answer('GET /v3/requests/88', completed)
    again.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(again.settings, again.ports)
    expect(again.events).not.toContain('GET /v3/data/products')
    expect(again.outputs[Outputs.RequestId]).toBe('88')
    expect(again.infos.join('\n')).toMatch(/Reusing download request 88: an earlier attempt/)

    // another run, other query inputs, or reuse switched off: a new key or none, a new download
    const otherRun = world(query, { env: { ...RUN, GITHUB_RUN_ID: '4243' } }).settings.requestKey
    const otherQuery = world({ ...query, [Inputs.NumRecords]: '11' }, { env: RUN }).settings
    const off = world({ ...query, [Inputs.ReuseRequest]: 'false' }, { env: RUN }).settings
    expect(new Set([key, otherRun, otherQuery.requestKey]).size).toBe(3)
    expect(off.requestKey).toBeUndefined()
    expect(key).not.toContain(TOKEN)
    // another matrix leg: same run, job, step and query, another token (account)
    const otherToken = world({ ...query, [Inputs.Token]: 'tok_other_account' }, { env: RUN })
    expect(otherToken.settings.token).toBe('tok_other_account')
    expect(otherToken.settings.requestKey).not.toBe(key)
    expect(world(query, { env: RUN }).settings.requestKey).toBe(key)
  })

  it('warns and creates when the memory is out of order; the run still succeeds', async () => {
    const w = world({ ...query, [Inputs.Mode]: 'urls' }, { env: RUN, memoryBroken: true })
    w.http.answer('GET /v3/data/products', created('88'))
    w.http.answer('GET /v3/requests/88', completed)
    w.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(w.settings, w.ports)
    expect(w.outputs[Outputs.RequestId]).toBe('88')
    expect(w.warnings).toEqual([
      expect.stringMatching(/^Could not look up a download .*cache down.*creating a new one/),
      expect.stringMatching(/^Could not remember request 88 .*would create a new download/)
    ])
  })

  it('ignores a remembered id of the wrong form', async () => {
    const env = RUN
    const key = world(query, { env }).settings.requestKey ?? ''
    const w = world({ ...query, [Inputs.Mode]: 'urls' }, { env, remembered: { [key]: 'abc' } })
    w.http.answer('GET /v3/data/products', created('88'))
    w.http.answer('GET /v3/requests/88', completed)
    w.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(w.settings, w.ports)
    expect(w.events.filter(e => e === 'GET /v3/data/products')).toHaveLength(1)
  })
})

describe('runPipeline with shard and the disk port', () => {
  const urlsOf = (names: string[]): string[] =>
    (JSON.parse(resultsFor(...names).text) as { url: string }[]).map(r => r.url)

  it('downloads only its shard, named as in the whole list, and reports the shard', async () => {
    // Repeated names: numbering them shard by shard would name them differently.
    const all = ['a.csv', 'a.csv', 'b.csv', 'a.csv', 'c.csv']
    const w = world({ [Inputs.RequestId]: '9', [Inputs.Shard]: '2/2' })
    w.http.answer('GET /v3/requests/9', completed)
    w.http.answer('GET /v3/results/9', resultsFor(...all))
    for (const name of new Set(all)) w.http.file(`/bucket/${name}`, { status: 200, body: CSV })
    const report = await runPipeline(w.settings, w.ports)

    const expected = shardOf(assignFileNames(urlsOf(all)), { index: 2, count: 2 })
    expect(expected).not.toEqual(assignFileNames(urlsOf(['a.csv', 'a.csv'])))
    expect(localFiles(report).map(f => f.name)).toEqual(expected)
    const dir = path.join(workspace, 'datafiniti', '9')
    expect(w.uploads).toEqual([
      {
        name: 'datafiniti-9-shard-2-of-2',
        files: [
          ...expected.map(name => path.join(dir, name)),
          path.join(dir, 'datafiniti-manifest-shard-2-of-2.json')
        ]
      }
    ])
    expect(w.outputs[Outputs.Shard]).toBe('2/2')
    expect(w.outputs[Outputs.FileCount]).toBe('2')
    expect(w.outputs[Outputs.DownloadFileCount]).toBe('5')
    expect(JSON.parse(w.outputs[Outputs.Urls] ?? '[]')).toEqual(
      shardOf(urlsOf(all), { index: 2, count: 2 })
    )
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'datafiniti-manifest-shard-2-of-2.json'), 'utf8')
    ) as Manifest
    expect(manifest.shard).toEqual({ index: 2, count: 2, totalFiles: 5 })
    expect(manifest.files.map(f => f.name)).toEqual(expected)
    expect(w.summaries.join('')).toContain('### Datafiniti download `9`, shard 2 of 2: `COMPLETED`')
    expect(w.summaries.join('')).toContain("Shard **2** of **2**: 2 of the download's **5**")
    // The disk check asked the disk port about the download directory, before any file body.
    const statfs = w.events.indexOf(`statfs ${dir}`)
    expect(statfs).toBeGreaterThan(-1)
    expect(
      w.events.findIndex(e => e.startsWith('FILE') && !e.endsWith('bytes=0-0'))
    ).toBeGreaterThan(statfs)
  })

  it('a shard past the last file warns and delivers nothing, even with if-no-results: error', async () => {
    const w = world({
      [Inputs.RequestId]: '9',
      [Inputs.Shard]: '3/3',
      [Inputs.IfNoResults]: 'error'
    })
    w.http.answer('GET /v3/requests/9', completed)
    w.http.answer('GET /v3/results/9', resultsFor('9_1.csv', '9_2.csv'))
    await runPipeline(w.settings, w.ports)
    expect(w.warnings).toEqual([
      expect.stringMatching(/^This job is shard 3 of 3: 0 of the download's 2/)
    ])
    expect(w.outputs[Outputs.FileCount]).toBe('0')
    expect(w.outputs[Outputs.DownloadFileCount]).toBe('2')
    expect(w.uploads).toEqual([])
    expect(w.events.filter(e => e.startsWith('FILE'))).toEqual([])
  })

  it('fails before any file body when the disk port reports too little space', async () => {
    const w = world({ [Inputs.RequestId]: '8', [Inputs.Mode]: 'files' }, { freeBytes: 4096 })
    w.http.answer('GET /v3/requests/8', completed)
    w.http.answer('GET /v3/results/8', resultsFor('8_1.csv', '8_2.csv'))
    w.http.file('/bucket/8_1.csv', { status: 200, body: CSV })
    w.http.file('/bucket/8_2.csv', { status: 200, body: CSV })
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toContain(
      `Not enough disk space for the download in ${path.join(workspace, 'datafiniti', '8')} ` +
        `(its 2 file(s) still to download). They need ${2 * CSV.length} B (${2 * CSV.length} bytes) ` +
        `plus 1.0 MiB to spare; the file system has 4.0 KiB (4,096 bytes) free. Nothing was downloaded.`
    )
    // The probes run side by side: in either order, and nothing else.
    expect(w.events.filter(e => e.startsWith('FILE')).sort()).toEqual([
      'FILE /bucket/8_1.csv bytes=0-0',
      'FILE /bucket/8_2.csv bytes=0-0'
    ])
    expect(w.outputs[Outputs.Files]).toBeUndefined()
  })
})

describe('a query that matched nothing', () => {
  const nothing = (action?: string) => {
    const w = world({
      [Inputs.Query]: 'nothing',
      [Inputs.DataType]: 'products',
      [Inputs.NumRecords]: '10',
      ...(action ? { [Inputs.IfNoResults]: action } : {})
    })
    w.http.answer('GET /v3/data/products', json(400, { message: 'numRequested cannot be <= 0' }))
    return w
  }

  it('is a run with no results: warn by default, nothing created, waited for or uploaded', async () => {
    const w = nothing()
    const report = await runPipeline(w.settings, w.ports)
    expect(report.status).toBe('NO MATCHES')
    expect(w.warnings).toEqual([expect.stringMatching(/^The query matched no records/)])
    expect(w.outputs[Outputs.RequestId]).toBe('')
    expect(w.outputs[Outputs.FileCount]).toBe('0')
    expect(w.uploads).toEqual([])
    expect(w.events.filter(e => e.startsWith('GET') || e.startsWith('FILE'))).toEqual([
      'GET /v3/data/products'
    ])
  })

  it('ignore is quiet; error fails with the reason', async () => {
    const quiet = nothing('ignore')
    await runPipeline(quiet.settings, quiet.ports)
    expect(quiet.warnings).toEqual([])
    const strict = nothing('error')
    const message = await failure(runPipeline(strict.settings, strict.ports))
    expect(message).toMatch(/^The query matched no records.*as 'if-no-results: error' asks/)
  })
})

describe('since: the window, composed before create, and the mark a success leaves', () => {
  const RUN = { GITHUB_RUN_ID: '300', GITHUB_JOB: 'fetch', GITHUB_ACTION: 'datafiniti' }
  const incremental = queryInputs('a:1 OR b:2', 'products', {
    [Inputs.Since]: 'last-success',
    [Inputs.Mode]: 'urls'
  })

  /** Marks over plain values; `saved` holds what the run left. */
  function marks(held: Mark | undefined) {
    const saved: Mark[] = []
    const store: MarkStore = {
      cacheUnavailable: () => undefined,
      fromCache: () => Promise.resolve(held),
      fromDurable: () => Promise.resolve(undefined),
      toCache: (_scope, mark) => (saved.push(mark), Promise.resolve()),
      toDurable: () => Promise.resolve()
    }
    return { store, saved }
  }

  /** A world whose create calls' `q` are recorded. */
  function incrementalWorld(held: Mark | undefined, options: WorldOptions = {}) {
    const m = marks(held)
    const w = world(incremental, { env: RUN, marks: m.store, ...options })
    const queries: string[] = []
    const api = w.ports.http.api
    const getText = api.getText.bind(api)
    api.getText = (url, ...rest) => {
      const q = new URL(url).searchParams.get('q')
      if (q !== null) queries.push(q)
      return getText(url, ...rest)
    }
    return { ...w, queries, saved: m.saved }
  }

  const held = (w: { settings: Settings }, createdAt: string): Mark => ({
    version: 1,
    createdAt,
    field: 'dateUpdated',
    queryHash: w.settings.window?.scope?.queryHash ?? '',
    runId: '200',
    requestId: '77'
  })

  it('ANDs the window onto the query it creates, and leaves the mark once delivered', async () => {
    const probe = world(incremental, { env: RUN })
    const w = incrementalWorld(held(probe, '2026-11-20T05:00:00Z'))
    w.http.answer('GET /v3/data/products', createdAs('88'))
    w.http.answer('GET /v3/requests/88', completed)
    w.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    const report = await runPipeline(w.settings, w.ports)
    expect(w.queries).toEqual(['(a:1 OR b:2) AND dateUpdated:[2026-11-20 TO *]'])
    expect(w.outputs[Outputs.Since]).toBe('2026-11-20T00:00:00.000Z')
    expect(report.window).toEqual({
      field: 'dateUpdated',
      from: new Date('2026-11-20T00:00:00Z'),
      to: new Date(NOW)
    })
    expect(w.saved).toEqual([
      {
        version: 1,
        createdAt: new Date(NOW).toISOString(),
        field: 'dateUpdated',
        queryHash: w.settings.window?.scope?.queryHash,
        runId: '300',
        requestId: '88'
      }
    ])
    // The window is planned before the create; the mark is left after the delivery.
    expect(w.events.indexOf('group Window')).toBeLessThan(w.events.indexOf('GET /v3/data/products'))
    expect(w.events.indexOf('group Leave the mark')).toBeGreaterThan(
      w.events.indexOf('GET /v3/results/88')
    )
  })

  it('a failed run leaves the mark where it was', async () => {
    const w = incrementalWorld(undefined)
    w.http.answer('GET /v3/data/products', createdAs('88'))
    w.http.answer('GET /v3/requests/88', json(200, { status: 'FAILED', error: 'boom' }))
    await failure(runPipeline(w.settings, w.ports))
    expect(w.queries).toEqual(['a:1 OR b:2'])
    expect(w.saved).toEqual([])
  })

  it('a re-run that picks up an earlier attempt’s download leaves the mark where it was', async () => {
    const probe = world(incremental, { env: RUN })
    const key = probe.settings.requestKey ?? ''
    const w = incrementalWorld(undefined, {
      env: { ...RUN, GITHUB_RUN_ATTEMPT: '2' },
      remembered: { [key]: '88' }
    })
    w.http.answer('GET /v3/requests/88', completed)
    w.http.answer('GET /v3/results/88', resultsFor('88_1.csv'))
    await runPipeline(w.settings, w.ports)
    expect(w.queries).toEqual([])
    expect(w.saved).toEqual([])
    expect(w.infos.join('\n')).toContain('The mark stays where it was')
  })

  it('a window that matched nothing moves the mark: nothing changed up to then', async () => {
    const w = incrementalWorld(undefined)
    w.http.answer('GET /v3/data/products', json(400, { message: 'numRequested cannot be <= 0' }))
    await runPipeline(w.settings, w.ports)
    expect(w.saved.map(mark => mark.createdAt)).toEqual([new Date(NOW).toISOString()])
  })
})

/** The API v4 answer for download `id`, completed, its one CSV file on files.example. */
const completedV4 = (id: string, fields: Record<string, number>): TextResponse =>
  json(200, {
    status: 'completed',
    ...fields,
    format: 'CSV',
    results: [`https://files.example/bucket/${id}_1.csv?X-Amz-Signature=sig0123456789`]
  })

/**
 * API v4 answers for a search of businesses: the count (which costs 1 credit) finds `count`'s
 * num_found, the create gives download `id`, which is complete at once, with `download`'s figures.
 */
function answerV4Search(
  w: ReturnType<typeof world>,
  id: string,
  count: { num_found: number },
  download: Record<string, number>
): void {
  w.http.answer(
    'POST /v4/businesses/search count',
    json(200, { ...count, num_records: 1, total_cost: 1, records: [{}] })
  )
  w.http.answer('POST /v4/businesses/search create', json(202, { id, status: 'queued' }))
  w.http.answer(`GET /v4/downloads/${id}`, completedV4(id, download))
}

describe('counting before buying (v4)', () => {
  const ID = 'd0d0d0d0d0d0d0d0d0d0d0d0'
  // num-records and max-records as each test says.
  const HOTELS = {
    [Inputs.ApiVersion]: 'v4',
    [Inputs.Query]: 'categories:hotels',
    [Inputs.DataType]: 'businesses'
  }
  const query = (inputs: Record<string, string>) => {
    const w = world({ ...HOTELS, [Inputs.Mode]: 'files', ...inputs })
    answerV4Search(
      w,
      ID,
      { num_found: 1_200 },
      { num_records: 1_200, num_downloaded: 2, total_cost: 2 }
    )
    w.http.file(`/bucket/${ID}_1.csv`, { status: 200, body: CSV })
    return w
  }
  const calls = (events: string[]) => events.filter(e => e.startsWith('POST'))

  it('dry-run counts, reports and creates nothing, whatever the memory holds', async () => {
    const w = query({ [Inputs.NumRecords]: '1000', [Inputs.DryRun]: 'true' })
    const report = await runPipeline(w.settings, w.ports)
    expect(calls(w.events)).toEqual(['POST /v4/businesses/search count'])
    expect(w.events.some(e => e.startsWith('recall') || e.startsWith('GET'))).toBe(false)
    expect(report.status).toBe('DRY RUN')
    expect(w.outputs).toMatchObject({
      [Outputs.NumFound]: '1200',
      [Outputs.Credits]: '1',
      [Outputs.RequestId]: '',
      [Outputs.FileCount]: '0'
    })
    expect(w.summaries.join('')).toContain('a real run would buy **1,000** of them')
  })

  it('max-records below the matches fails before the create, naming both numbers and the fix', async () => {
    const w = query({ [Inputs.NumRecords]: 'all', [Inputs.MaxRecords]: '1000' })
    const message = await failure(runPipeline(w.settings, w.ports))
    expect(message).toBe(
      "The query matches 1,200 records, more than 'max-records' 1,000 allows: nothing was bought. " +
        "Narrow the query, raise 'max-records' to at least 1200, or set 'num-records: 1000' to take " +
        'only 1,000 records on purpose.'
    )
    expect(calls(w.events)).toEqual(['POST /v4/businesses/search count'])
    expect(w.outputs[Outputs.NumFound]).toBe('1200')
  })

  it('max-records above the matches counts, then creates that very query', async () => {
    const w = query({ [Inputs.NumRecords]: 'all', [Inputs.MaxRecords]: '5000' })
    await runPipeline(w.settings, w.ports)
    expect(calls(w.events)).toEqual([
      'POST /v4/businesses/search count',
      'POST /v4/businesses/search create'
    ])
    expect(w.outputs).toMatchObject({
      [Outputs.NumFound]: '1200',
      [Outputs.RecordCount]: '2',
      [Outputs.RowCount]: '2',
      // The download's total_cost and the count's own.
      [Outputs.Credits]: '3'
    })
  })

  it('a num-records within max-records caps the download already: no count', async () => {
    const w = query({ [Inputs.NumRecords]: '1000', [Inputs.MaxRecords]: '1000' })
    await runPipeline(w.settings, w.ports)
    expect(calls(w.events)).toEqual(['POST /v4/businesses/search create'])
    expect(w.outputs[Outputs.NumFound]).toBe('')
  })

  it('a re-run reusing the download it created counts nothing and buys nothing', async () => {
    const env = { GITHUB_RUN_ID: '4242', GITHUB_JOB: 'fetch', GITHUB_ACTION: 'datafiniti' }
    const inputs = { ...HOTELS, [Inputs.NumRecords]: 'all', [Inputs.MaxRecords]: '10' }
    const w = world(inputs, { env })
    const key = w.settings.requestKey
    expect(key).toBeDefined()
    const again = world(
      { ...inputs, [Inputs.Mode]: 'files' },
      { env: { ...env, GITHUB_RUN_ATTEMPT: '2' }, remembered: { [key ?? '']: ID } }
    )
    again.http.answer(`GET /v4/downloads/${ID}`, completedV4(ID, { num_downloaded: 2 }))
    again.http.file(`/bucket/${ID}_1.csv`, { status: 200, body: CSV })
    await runPipeline(again.settings, again.ports)
    expect(calls(again.events)).toEqual([])
    expect(again.outputs[Outputs.RecordCount]).toBe('2')
  })
})

describe('since with the count before buying (v4)', () => {
  const ID = 'e0e0e0e0e0e0e0e0e0e0e0e0'
  const v4 = queryInputs('a:1 OR b:2', 'businesses', {
    [Inputs.ApiVersion]: 'v4',
    [Inputs.Mode]: 'urls'
  })

  /** A v4 world whose POSTed queries are recorded, and marks that record what is saved. */
  function counted(inputs: Record<string, string>) {
    const saved: string[] = []
    const marks: MarkStore = {
      cacheUnavailable: () => undefined,
      fromCache: () => Promise.resolve(undefined),
      fromDurable: () => Promise.resolve(undefined),
      toCache: (_scope, mark) => (saved.push(mark.createdAt), Promise.resolve()),
      toDurable: () => Promise.resolve()
    }
    const w = world({ ...v4, ...inputs }, { env: { GITHUB_RUN_ID: '5' }, marks })
    const posted: string[] = []
    const api = w.ports.http.api
    const postText = api.postText.bind(api)
    api.postText = (url, headers, body) => {
      posted.push((JSON.parse(body) as { query: string }).query)
      return postText(url, headers, body)
    }
    answerV4Search(w, ID, { num_found: 3 }, { num_records: 3, num_downloaded: 3 })
    return { ...w, posted, saved }
  }

  it('counts and creates the windowed query', async () => {
    const w = counted({ [Inputs.Since]: '2026-11-01', [Inputs.MaxRecords]: '10' })
    await runPipeline(w.settings, w.ports)
    expect(w.posted).toEqual([
      '(a:1 OR b:2) AND dateUpdated:[2026-11-01 TO *]',
      '(a:1 OR b:2) AND dateUpdated:[2026-11-01 TO *]'
    ])
  })

  it('a dry run reads the mark, counts the windowed query and never moves the mark', async () => {
    const w = counted({ [Inputs.Since]: 'last-success', [Inputs.DryRun]: 'true' })
    await runPipeline(w.settings, w.ports)
    expect(w.posted).toEqual(['a:1 OR b:2'])
    expect(w.saved).toEqual([])
    const real = counted({ [Inputs.Since]: 'last-success' })
    await runPipeline(real.settings, real.ports)
    expect(real.saved).toEqual([new Date(NOW).toISOString()])
  })
})
