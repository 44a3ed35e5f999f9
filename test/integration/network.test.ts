/**
 * Real network trouble, with real sockets rather than synthetic error objects: a create against a
 * port where nothing listens yet (refused, so provably never sent, so retried), a status poll whose
 * connection is reset (a TCP RST), and a cross-host redirect on `/results` followed by more API
 * calls, which must all still carry the token to the API's own origin.
 */
import * as http from 'node:http'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { Inputs } from '../../src/domain/action-io.js'
import { awkwardCsv, sha256 } from '../../sim/data.js'
import { annotations, failureOf, printed } from '../../sim/runner.js'
import { bufferBody } from '../../sim/simulator.js'
import { fileHashes, useWorld } from '../helpers/world.js'

const TOKEN = 'tok_network_e4a1b20f'
const BASIC = `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}`
const csv = awkwardCsv(500, 91)

const world = useWorld(
  {
    token: TOKEN,
    requests: [
      {
        id: 501,
        pollsUntilComplete: 1,
        requestFaults: [{ pass: true }, { reset: true }],
        files: [{ name: '501_1.csv', body: bufferBody(csv.body) }]
      },
      {
        id: 502,
        resultsNotReady: 1,
        files: [{ name: '502_1.csv', body: bufferBody(csv.body), expiredUrls: 1 }]
      }
    ],
    queries: {
      'country:US': {
        numFound: 300,
        files: id => [{ name: `${id}_1.csv`, body: bufferBody(csv.body) }]
      }
    }
  },
  { inputs: { [Inputs.Mode]: 'files' } }
)

/** A port nothing listens on: taken from the OS, then let go. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  await new Promise(done => server.close(done))
  return port
}

/** Opens `port` late, passing every connection on to the simulator's API. */
async function forward(port: number, to: URL): Promise<net.Server> {
  const server = net.createServer(client => {
    const upstream = net.connect(Number(to.port), to.hostname)
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>(done => server.listen(port, '127.0.0.1', done))
  return server
}

describe('real network errors', () => {
  it('a create refused by a closed port is retried, and sent once only when the port opens', async () => {
    const port = await closedPort()
    let opened: Promise<net.Server> | undefined
    const before = world.sim.createCalls.length
    const result = await world.run(
      {
        [Inputs.ApiUrl]: `http://127.0.0.1:${port}`,
        [Inputs.Query]: 'country:US',
        [Inputs.DataType]: 'properties',
        [Inputs.NumRecords]: '300'
      },
      {
        onStart: (_child, output) => {
          const timer = setInterval(() => {
            if (/ECONNREFUSED/.test(output())) {
              clearInterval(timer)
              opened = forward(port, new URL(world.sim.apiUrl))
            }
          }, 20)
        }
      }
    )
    const server = await opened
    server?.close()
    expect(result.code, printed(result)).toBe(0)
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /GET \/v3\/data\/properties failed \(.*ECONNREFUSED.*\); retry 1 of 5/
    )
    expect(world.sim.createCalls.length - before).toBe(1)
    expect(fileHashes(result)).toEqual([sha256(csv.body)])
    world.expectNoSecrets(result)
  })

  it('a poll whose connection is reset is retried', async () => {
    const result = await world.run({ [Inputs.RequestId]: '501' })
    expect(result.code, printed(result)).toBe(0)
    expect(annotations(result, 'warning').join('\n')).toMatch(
      /GET \/v3\/requests\/501 failed \(.*ECONNRESET.*\); retry 1 of 5/
    )
    // Three polls reached the server: STARTED, the reset one, COMPLETED.
    expect(world.sim.log.filter(e => e.path === '/v3/requests/501')).toHaveLength(3)
    expect(world.sim.polls(501)).toBe(2)
    expect(fileHashes(result)).toEqual([sha256(csv.body)])
  })
})

interface Seen {
  host: string
  path: string
  authorization: string | undefined
}

/**
 * In front of the simulator's API on 127.0.0.1: the first `/v3/results` is redirected to the same
 * front under another host name, `localhost`, which stands for a host that serves the results
 * without the token (it adds the simulator's credentials itself). Records what each request carried.
 */
async function redirectingFront(
  target: URL
): Promise<{ port: number; seen: Seen[]; stop(): Promise<void> }> {
  const seen: Seen[] = []
  let redirected = false
  const server = http.createServer((req, res) => {
    const host = req.headers.host ?? ''
    const authorization = req.headers.authorization
    seen.push({ host, path: req.url ?? '', authorization })
    if (!redirected && host.startsWith('127.0.0.1:') && req.url?.startsWith('/v3/results/')) {
      redirected = true
      res.writeHead(307, { Location: `http://localhost:${host.split(':')[1] ?? ''}${req.url}` })
      res.end()
      return
    }
    const headers = { ...req.headers, host: target.host }
    if (host.startsWith('localhost:')) headers.authorization = BASIC
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
      answer => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    stop: async () => {
      server.closeAllConnections()
      await new Promise(done => server.close(done))
    }
  }
}

describe('a cross-host redirect on /results', () => {
  it('goes without the token; every later call to the API still carries it', async () => {
    const front = await redirectingFront(new URL(world.sim.apiUrl))
    try {
      const result = await world.run({
        [Inputs.RequestId]: '502',
        [Inputs.ApiUrl]: `http://127.0.0.1:${front.port}`
      })
      expect(result.code, printed(result)).toBe(0)
      expect(fileHashes(result)).toEqual([sha256(csv.body)])
      const redirectedAt = front.seen.findIndex(s => s.host.startsWith('localhost:'))
      expect(redirectedAt).toBeGreaterThan(0)
      // The hop to the other host did not get the token.
      expect(front.seen[redirectedAt]?.authorization).toBeUndefined()
      const api = front.seen.filter(s => s.host.startsWith('127.0.0.1:'))
      const later = front.seen.slice(redirectedAt + 1)
      // Not ready at first: a poll, the results, then fresh URLs for the expired one, all after.
      expect(later.map(s => s.path.replace(/\d+$/, 'ID'))).toEqual([
        '/v3/requests/ID',
        '/v3/results/ID',
        '/v3/results/ID'
      ])
      for (const call of api) expect(call.authorization, call.path).toBe(BASIC)
      world.expectNoSecrets(result)
    } finally {
      await front.stop()
    }
  })
})

describe('the api-url scheme', () => {
  it('refuses plain http for a host that is not loopback, before any network call', async () => {
    const before = world.sim.log.length
    const result = await world.run({
      [Inputs.RequestId]: '501',
      [Inputs.ApiUrl]: 'http://api.datafiniti.example'
    })
    expect(result.code).toBe(1)
    expect(failureOf(result)).toMatch(/Input 'api-url' must use https/)
    expect(world.sim.log.length).toBe(before)
  })
})
