/**
 * The action behind a proxy (HTTPS_PROXY / https_proxy, HTTP_PROXY, NO_PROXY), as on self-hosted
 * runners. The API and the file host speak HTTPS with a certificate from a throw-away CA (trusted
 * through NODE_EXTRA_CA_CERTS), so the proxy only ever relays TLS: it records every byte it relays,
 * and none may hold the token or a URL signature in clear.
 *
 * @actions/http-client never proxies loopback hosts (localhost, 127.*, [::1]: `checkBypass` in
 * its lib/proxy.js), so the simulator is addressed by names that only the test proxy can
 * resolve: `datafiniti.test` and `files.datafiniti.test` have no DNS entry (.test is reserved), and
 * the proxy maps them to 127.0.0.1. A request that reaches the simulator under such a name can
 * only have gone through the proxy, and one that bypasses the proxy fails to resolve.
 *
 * The client tunnels with CONNECT (the `tunnel` package), for https and plain-http targets alike;
 * the proxy handles and records absolute-URI requests too.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { printed, runAction, type ActionRun } from '../../sim/runner.js'
import { bufferBody, startSimulator, type Simulator } from '../../sim/simulator.js'
import { useThrowawayCa } from '../helpers/tls.js'
import { fileHashes, outputFiles, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_proxy_5be0c2d941a7'
const BASIC = Buffer.from(`${TOKEN}:`).toString('base64')
const API_HOST = 'datafiniti.test'
const FILE_HOST = 'files.datafiniti.test'

const csvA = awkwardCsv(400, 31)
const csvB = awkwardCsv(250, 32, '\r\n')

interface ProxiedRequest {
  /** CONNECT (a tunnel) or the method of an absolute-URI request. */
  method: string
  /** `host:port` for CONNECT, the absolute URL otherwise. */
  target: string
  headers: http.IncomingHttpHeaders
}

interface Proxy {
  url: string
  log: ProxiedRequest[]
  /** Every byte relayed through the tunnels, both ways. */
  relayed: Buffer[]
  stop(): Promise<void>
}

/**
 * A forward proxy on 127.0.0.1 that resolves the names it is given to 127.0.0.1 itself and refuses
 * every other destination, so nothing ever leaves the machine.
 */
async function startProxy(names: readonly string[]): Promise<Proxy> {
  const log: ProxiedRequest[] = []
  const relayed: Buffer[] = []
  const sockets = new Set<net.Socket>()
  const resolve = (host: string): string | undefined =>
    names.includes(host.toLowerCase()) || host === '127.0.0.1' ? '127.0.0.1' : undefined

  const server = http.createServer((req, res) => {
    let target: URL
    try {
      target = new URL(req.url ?? '')
    } catch {
      res.writeHead(400).end('absolute URI required')
      return
    }
    log.push({ method: req.method ?? '', target: target.href, headers: req.headers })
    const address = resolve(target.hostname)
    if (target.protocol !== 'http:' || !address) {
      res.writeHead(502).end(`the test proxy does not reach ${target.host}`)
      return
    }
    const upstream = http.request(
      {
        host: address,
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: req.headers
      },
      answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? ''
    log.push({ method: req.method ?? 'CONNECT', target, headers: req.headers })
    const match = /^(.+):(\d+)$/.exec(target)
    const address = match ? resolve(match[1] ?? '') : undefined
    if (!match || !address) {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n')
      return
    }
    const upstream = net.connect(Number(match[2]), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      relayed.push(head)
      for (const side of [client, upstream]) side.on('data', (chunk: Buffer) => relayed.push(chunk))
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })

  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    relayed,
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise(done => server.close(done))
    }
  }
}

/**
 * Stands in front of a simulator's API, on HTTPS, and rewrites its file URLs from the loopback
 * origin to FILE_HOST (the signatures do not cover the host), as the real API hands out S3 URLs on
 * a non-loopback host.
 */
async function startRenamingFront(
  sim: Simulator
): Promise<{ port: number; stop(): Promise<void> }> {
  const api = new URL(sim.apiUrl)
  const fileOrigin = new URL(sim.fileOrigin)
  const renamed = `${fileOrigin.protocol}//${FILE_HOST}:${fileOrigin.port}`
  const server = https.createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    const upstream = (api.protocol === 'https:' ? https : http).request(
      {
        host: api.hostname,
        port: api.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: api.host },
        ca: caPem
      },
      answer => {
        const chunks: Buffer[] = []
        answer.on('data', (chunk: Buffer) => chunks.push(chunk))
        answer.on('end', () => {
          const body = Buffer.from(
            Buffer.concat(chunks).toString('utf8').split(sim.fileOrigin).join(renamed)
          )
          const headers = { ...answer.headers, 'content-length': String(body.length) }
          delete headers['transfer-encoding']
          res.writeHead(answer.statusCode ?? 502, headers)
          res.end(body)
        })
        answer.on('error', () => res.destroy())
      }
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  return {
    port: (server.address() as AddressInfo).port,
    stop: async () => {
      server.closeAllConnections()
      await new Promise(done => server.close(done))
    }
  }
}

const ca = useThrowawayCa([API_HOST, FILE_HOST])
const caPem = readFileSync(ca.caFile, 'utf8')

const requests = [
  {
    id: 6073,
    pollsUntilComplete: 1,
    numRequested: 650,
    files: [
      { name: '6073_1.csv', body: bufferBody(csvA.body), dateCreated: '2026-11-28 15:53:00' },
      { name: '6073_2.csv', body: bufferBody(csvB.body), dateCreated: '2026-11-28 15:53:00' }
    ]
  }
]

const world = useWorld(
  { token: TOKEN, requests, tls: { key: ca.key, cert: ca.cert, roles: ['api', 'files'] } },
  { inputs: { [Inputs.RequestId]: '6073', [Inputs.Mode]: 'files' } }
)

let proxy: Proxy
let front: { port: number; stop(): Promise<void> }
/** The API on HTTPS, the file host on plain http, file paths free of the token. */
let plainFiles: Simulator
let plainFront: { port: number; stop(): Promise<void> }

// After useWorld's beforeAll: the front needs the simulator running.
beforeAll(async () => {
  plainFiles = await startSimulator({
    token: TOKEN,
    requests,
    filePrefix: 'results',
    tls: { key: ca.key, cert: ca.cert, roles: ['api'] }
  })
  ;[proxy, front, plainFront] = await Promise.all([
    startProxy([API_HOST, FILE_HOST]),
    startRenamingFront(world.sim),
    startRenamingFront(plainFiles)
  ])
})

afterAll(async () => {
  await Promise.all([proxy.stop(), front.stop(), plainFront.stop(), plainFiles.stop()])
})

afterEach(() => {
  proxy.log.length = 0
  proxy.relayed.length = 0
  world.sim.log.length = 0
  plainFiles.log.length = 0
})

const apiPort = (): string => new URL(world.sim.apiUrl).port
const filePort = (sim: Simulator = world.sim): string => new URL(sim.fileOrigin).port

/** Only what a runner passes on, and the throw-away CA: no NO_PROXY unless a test sets it. */
function proxyEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HTTPS_PROXY: proxy.url,
    https_proxy: proxy.url,
    HTTP_PROXY: proxy.url,
    http_proxy: proxy.url,
    NODE_EXTRA_CA_CERTS: ca.caFile,
    ...extra
  }
}

const inputs = (apiUrl: string): Record<string, string> => world.inputs({ [Inputs.ApiUrl]: apiUrl })

function expectDownloaded(run: ActionRun): void {
  expect(run.code, printed(run)).toBe(0)
  const dir = path.join(run.workspace, 'datafiniti', '6073')
  expect(outputFiles(run)).toEqual(['6073_1.csv', '6073_2.csv'].map(name => path.join(dir, name)))
  expect(fileHashes(run)).toEqual([sha256(csvA.body), sha256(csvB.body)])
  expect(run.outputs[Outputs.Status]).toBe('COMPLETED')
  expect(run.outputs[Outputs.FileCount]).toBe('2')
  expect(run.outputs[Outputs.TotalBytes]).toBe(String(csvA.body.length + csvB.body.length))
  expect(run.outputs[Outputs.RowCount]).toBe(String(400 + 250))
  world.expectNoSecrets(run)
}

/** What the proxy could read: the requests it was sent and every byte it relayed. */
function proxySaw(): string {
  return JSON.stringify(proxy.log) + Buffer.concat(proxy.relayed).toString('latin1')
}

/** Neither the token nor its Basic form ever reaches the proxy in clear. */
function proxySawNoCredentials(): void {
  const seen = proxySaw()
  expect(seen).not.toContain(TOKEN)
  expect(seen).not.toContain(BASIC)
}

/** Nor a URL signature, when every target is HTTPS. */
function proxySawNoSignatures(run: ActionRun): void {
  const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
  expect(urls.length).toBeGreaterThan(0)
  const seen = proxySaw()
  for (const url of urls) {
    const signature = new URL(url).searchParams.get('X-Amz-Signature') ?? ''
    expect(signature).toMatch(/^[0-9a-f]{64}$/)
    expect(seen).not.toContain(signature)
  }
  expect(seen).not.toContain('X-Amz-Signature')
}

describe('behind an HTTPS proxy', () => {
  it('sends API calls for a non-loopback host through the proxy; loopback file URLs bypass it', async () => {
    const run = await runAction({
      env: proxyEnv(),
      inputs: inputs(`https://${API_HOST}:${apiPort()}`)
    })
    expectDownloaded(run)

    // Every API call went through a CONNECT tunnel to datafiniti.test: it has no DNS entry, and
    // the simulator saw it addressed by that name.
    const apiCalls = world.sim.log.filter(entry => entry.server === 'api')
    expect(apiCalls.length).toBeGreaterThanOrEqual(3) // two polls and the results
    for (const entry of apiCalls) expect(entry.headers.host).toBe(`${API_HOST}:${apiPort()}`)
    expect(proxy.log.length).toBeGreaterThan(0)
    expect(proxy.log.every(entry => entry.method === 'CONNECT')).toBe(true)
    expect(new Set(proxy.log.map(entry => entry.target))).toEqual(
      new Set([`${API_HOST}:${apiPort()}`])
    )

    // The simulator's file URLs are https://127.0.0.1:…: http-client never proxies loopback
    // hosts, so the files came straight from the file host and the proxy saw none of them.
    const fileCalls = world.sim.log.filter(entry => entry.server === 'files')
    expect(fileCalls.length).toBeGreaterThanOrEqual(2)
    for (const entry of fileCalls) expect(entry.headers.host).toBe(`127.0.0.1:${filePort()}`)
    expect(proxy.log.some(entry => entry.target.includes(`:${filePort()}`))).toBe(false)
    proxySawNoCredentials()
    proxySawNoSignatures(run)
  })

  it('downloads the files through the proxy too, over TLS: the proxy sees no token and no signature', async () => {
    const run = await runAction({
      env: proxyEnv(),
      inputs: inputs(`https://${API_HOST}:${front.port}`)
    })
    expectDownloaded(run)
    const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
    for (const url of urls) expect(url.startsWith(`https://${FILE_HOST}:${filePort()}/`)).toBe(true)

    const fileCalls = world.sim.log.filter(entry => entry.server === 'files')
    expect(fileCalls.length).toBeGreaterThanOrEqual(2)
    for (const entry of fileCalls) {
      expect(entry.headers.host).toBe(`${FILE_HOST}:${filePort()}`)
      expect(entry.headers.authorization).toBeUndefined()
    }
    // Every file request went through @actions/http-client's tunnel: the direct socket reader
    // never takes a URL a proxy applies to, and here it could not even resolve the file host.
    const targets = new Set(proxy.log.map(entry => entry.target))
    expect(targets).toEqual(new Set([`${API_HOST}:${front.port}`, `${FILE_HOST}:${filePort()}`]))
    expect(proxy.log.every(entry => entry.method === 'CONNECT')).toBe(true)
    // The tunnels carried TLS: the token's and the signatures' bytes never passed in clear.
    expect(proxy.relayed.length).toBeGreaterThan(0)
    proxySawNoCredentials()
    proxySawNoSignatures(run)
  })

  it('an https API and plain-http file URLs through the proxy: the API tunnelled, the files refused', async () => {
    const run = await runAction({
      env: proxyEnv(),
      inputs: world.inputs({
        [Inputs.ApiUrl]: `https://${API_HOST}:${plainFront.port}`,
        [Inputs.MaxRetries]: '0'
      })
    })
    // A signed URL is a credential: plain http is refused for a file host that is not loopback,
    // proxy or not, before any request for it.
    expect(run.code).not.toBe(0)
    expect(printed(run)).toMatch(
      new RegExp(
        `The result URL ${FILE_HOST.replace(/\./g, '\\.')}:\\d+/…/\\S+, over http: refused`
      )
    )
    const targets = new Set(proxy.log.map(entry => entry.target))
    expect(targets).toEqual(new Set([`${API_HOST}:${plainFront.port}`]))
    expect(plainFiles.log.filter(entry => entry.server === 'files')).toEqual([])
    proxySawNoCredentials()
    world.expectNoSecrets(run)
  })

  it('goes direct, never to the proxy, for a host listed in NO_PROXY', async () => {
    const run = await runAction({
      env: proxyEnv({ NO_PROXY: API_HOST }),
      inputs: { ...inputs(`https://${API_HOST}:${apiPort()}`), [Inputs.MaxRetries]: '0' },
      timeoutMs: 30_000
    })
    // Direct means resolving datafiniti.test, which has no address: a network error, and nothing
    // reached either the proxy or the simulator.
    expect(run.code, printed(run)).not.toBe(0)
    expect(printed(run)).toMatch(/(ENOTFOUND|EAI_AGAIN) datafiniti\.test/)
    expect(proxy.log).toEqual([])
    expect(world.sim.log).toEqual([])
  })

  it('applies NO_PROXY suffixes and lower-case no_proxy as well', async () => {
    const run = await runAction({
      env: proxyEnv({ no_proxy: 'example.org, .datafiniti.test' }),
      inputs: { ...inputs(`https://${API_HOST}:${front.port}`), [Inputs.MaxRetries]: '0' },
      timeoutMs: 30_000
    })
    // `.datafiniti.test` covers files.datafiniti.test but not datafiniti.test itself: the API goes
    // through the proxy, then the file host is tried directly and cannot be resolved.
    expect(run.code, printed(run)).not.toBe(0)
    expect(new Set(proxy.log.map(entry => entry.target))).toEqual(
      new Set([`${API_HOST}:${front.port}`])
    )
    expect(world.sim.log.some(entry => entry.server === 'files')).toBe(false)
    expect(printed(run)).toMatch(/(ENOTFOUND|EAI_AGAIN) files\.datafiniti\.test/)
  })
})
