/**
 * The hostile-host world: answers no honest host gives, for the file host and the API to script
 * (Fault), and a raw peer that takes connections and never lets go.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import type * as http from 'node:http'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import type { Fault } from './types.js'

/** The bytes of a stalled error body sent before the silence: a start, never an end. */
const STALLED_START = '<Error><Code>SlowDown</Code>'

/** Answers a hostile fault; false when `fault` is not one (the caller goes on). */
export function hostileAnswer(res: http.ServerResponse, fault: Fault | undefined): boolean {
  if (fault && 'stalledError' in fault) {
    // A head that promises 200 bytes, a few of them, then nothing: the connection stays open.
    res.writeHead(fault.stalledError, {
      'Content-Type': 'application/xml',
      'Content-Length': 200
    })
    res.write(STALLED_START)
    return true
  }
  if (fault && 'redirect' in fault) {
    res.writeHead(302, { Location: fault.redirect, 'Content-Length': 0 })
    res.end()
    return true
  }
  return false
}

export interface HalfOpenPeer {
  /** `http://127.0.0.1:<port>`: hand it out as a file origin or pass it as the api-url. */
  origin: string
  /** Connections taken so far. */
  readonly connections: number
  stop(): Promise<void>
}

/**
 * A peer that reads a request, sends `answer` (nothing by default; a head and part of a body to
 * stall mid-answer), and then neither answers more nor closes: it ignores the client's FIN
 * (half-open), so only a client that destroys its socket is ever rid of it.
 */
export async function startHalfOpenPeer(answer = ''): Promise<HalfOpenPeer> {
  const sockets = new Set<Socket>()
  let connections = 0
  const server = createServer({ allowHalfOpen: true }, socket => {
    connections++
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    let answered = false
    socket.on('data', () => {
      if (answered || answer === '') return
      answered = true
      socket.write(answer)
    })
    // 'end' (the client's FIN) is heard and ignored: no end() of ours follows.
    socket.on('end', () => undefined)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** What sim/loopback-only.js saw in the action's process. */
export interface NetRecord {
  /** A listed name was looked up (and answered with `address`). */
  lookup?: string
  address?: string
  /** A connection that would have left loopback, refused instead. */
  refusedConnect?: string
  host?: string
}

/**
 * Env for runAction that loads sim/loopback-only.js into the action: each of `hosts` resolves to
 * its address, every other name but localhost to nothing, and no connection leaves loopback.
 * `records()` reads what it saw once the run is over.
 */
export function loopbackOnlyChild(hosts: Record<string, string>): {
  env: Record<string, string>
  records(): NetRecord[]
} {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'net-log-')), 'net.jsonl')
  writeFileSync(log, '')
  const preload = pathToFileURL(
    path.join(path.dirname(fileURLToPath(import.meta.url)), 'loopback-only.js')
  )
  return {
    env: {
      NODE_OPTIONS: `--import=${preload.href}`,
      DATAFINITI_SIM_HOSTS: JSON.stringify(hosts),
      DATAFINITI_SIM_NET_LOG: log
    },
    records: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(line => JSON.parse(line) as NetRecord)
  }
}
