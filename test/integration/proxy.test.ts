/**
 * The action behind an HTTP proxy (HTTP_PROXY / http_proxy, NO_PROXY), as on self-hosted runners.
 *
 * @actions/http-client never proxies loopback hosts (localhost, 127.*, [::1]: `checkBypass` in
 * its lib/proxy.js), so the simulator is addressed by names that only the test proxy can
 * resolve: `datafiniti.test` and `files.datafiniti.test` have no DNS entry (.test is reserved), and
 * the proxy maps them to 127.0.0.1. A request that reaches the simulator under such a name can
 * only have gone through the proxy, and one that bypasses the proxy fails to resolve.
 *
 * For plain-http targets the client tunnels with CONNECT (the `tunnel` package) rather than
 * sending absolute-URI requests; the proxy handles and records both.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import * as path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Inputs, Outputs } from '../../src/domain/names.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { printed, runAction, type ActionRun } from '../../sim/runner.js'
import { bufferBody, type Simulator } from '../../sim/simulator.js'
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
  stop(): Promise<void>
}

/**
 * A forward proxy on 127.0.0.1 that resolves the names it is given to 127.0.0.1 itself and refuses
 * every other destination, so nothing ever leaves the machine.
 */
async function startProxy(names: readonly string[]): Promise<Proxy> {
  const log: ProxiedRequest[] = []
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
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      server.closeAllConnections()
      await new Promise(done => server.close(done))
    }
  }
}

/**
 * Stands in front of the simulator's API and rewrites its file URLs from the loopback origin to
 * FILE_HOST (the signatures do not cover the host), as the real API hands out S3 URLs on a
 * non-loopback host.
 */
async function startRenamingFront(
  sim: Simulator
): Promise<{ port: number; stop(): Promise<void> }> {
  const api = new URL(sim.apiUrl)
  const fileOrigin = new URL(sim.fileOrigin)
  const renamed = `http://${FILE_HOST}:${fileOrigin.port}`
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: api.hostname,
        port: api.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: api.host }
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

const world = useWorld(
  {
    token: TOKEN,
    requests: [
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
  },
  { inputs: { [Inputs.RequestId]: '6073', [Inputs.Mode]: 'files' } }
)

let proxy: Proxy
let front: { port: number; stop(): Promise<void> }

// After useWorld's beforeAll: the front needs the simulator running.
beforeAll(async () => {
  ;[proxy, front] = await Promise.all([
    startProxy([API_HOST, FILE_HOST]),
    startRenamingFront(world.sim)
  ])
})

afterAll(async () => {
  await Promise.all([proxy.stop(), front.stop()])
})

afterEach(() => {
  proxy.log.length = 0
  world.sim.log.length = 0
})

const apiPort = (): string => new URL(world.sim.apiUrl).port
const filePort = (): string => new URL(world.sim.fileOrigin).port

/** Only what a runner passes on: no NO_PROXY unless a test sets it. */
function proxyEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { HTTP_PROXY: proxy.url, http_proxy: proxy.url, ...extra }
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
  expect(run.outputs[Outputs.RecordCount]).toBe(String(400 + 250))
  world.expectNoSecrets(run)
}

/** Neither the token nor its Basic form ever reaches the proxy in clear (tunnels hide the rest). */
function proxySawNoCredentials(): void {
  for (const entry of proxy.log) {
    const headers = JSON.stringify(entry.headers)
    expect(headers).not.toContain(TOKEN)
    expect(headers).not.toContain(BASIC)
  }
}

describe('behind an HTTP proxy', () => {
  it('sends API calls for a non-loopback host through the proxy; loopback file URLs bypass it', async () => {
    const run = await runAction({
      env: proxyEnv(),
      inputs: inputs(`http://${API_HOST}:${apiPort()}`)
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

    // The simulator's file URLs are http://127.0.0.1:…: http-client never proxies loopback
    // hosts, so the files came straight from the file host and the proxy saw none of them.
    const fileCalls = world.sim.log.filter(entry => entry.server === 'files')
    expect(fileCalls.length).toBeGreaterThanOrEqual(2)
    for (const entry of fileCalls) expect(entry.headers.host).toBe(`127.0.0.1:${filePort()}`)
    expect(proxy.log.some(entry => entry.target.includes(`:${filePort()}`))).toBe(false)
    proxySawNoCredentials()
  })

  it('downloads the files through the proxy too when the file host is not loopback', async () => {
    const run = await runAction({
      env: proxyEnv(),
      inputs: inputs(`http://${API_HOST}:${front.port}`)
    })
    expectDownloaded(run)
    const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
    for (const url of urls) expect(new URL(url).host).toBe(`${FILE_HOST}:${filePort()}`)

    const fileCalls = world.sim.log.filter(entry => entry.server === 'files')
    expect(fileCalls.length).toBeGreaterThanOrEqual(2)
    for (const entry of fileCalls) {
      expect(entry.headers.host).toBe(`${FILE_HOST}:${filePort()}`)
      expect(entry.headers.authorization).toBeUndefined()
    }
    const targets = new Set(proxy.log.map(entry => entry.target))
    expect(targets).toEqual(new Set([`${API_HOST}:${front.port}`, `${FILE_HOST}:${filePort()}`]))
    expect(proxy.log.every(entry => entry.method === 'CONNECT')).toBe(true)
    proxySawNoCredentials()
  })

  it('goes direct, never to the proxy, for a host listed in NO_PROXY', async () => {
    const run = await runAction({
      env: proxyEnv({ NO_PROXY: API_HOST }),
      inputs: { ...inputs(`http://${API_HOST}:${apiPort()}`), [Inputs.MaxRetries]: '0' },
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
      inputs: { ...inputs(`http://${API_HOST}:${front.port}`), [Inputs.MaxRetries]: '0' },
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
