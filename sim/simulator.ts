/**
 * A faithful Datafiniti simulator for tests, the demo and the benchmark: the v3 and v4 APIs on one
 * port and an S3-like file host with pre-signed URLs on another, both on 127.0.0.1. Its behaviour
 * follows Datafiniti's public v3 and v4 API guides and reference pages, not the action's code.
 */
import * as http from 'node:http'
import * as https from 'node:https'
import type { AddressInfo } from 'node:net'
import { apiError, authorize } from './api-shared.js'
import { handleFile } from './file-host.js'
import { createState, type SimState } from './state.js'
import type { LoggedRequest, SimOptions, Simulator } from './types.js'
import { routeV3 } from './v3-api.js'
import { routeV4 } from './v4-api.js'

export { bufferBody, repeatBody } from './bodies.js'
export type {
  CreatedDownload,
  Fault,
  FileBody,
  LoggedRequest,
  SimFile,
  SimOptions,
  SimQuery,
  SimRecord,
  SimRequest,
  Simulator
} from './types.js'

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

function handleApi(state: SimState, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://api')
  const version = url.pathname.startsWith('/v4/') ? 'v4' : 'v3'
  if (!authorize(state, version, req, res)) return
  const route = version === 'v4' ? routeV4 : routeV3
  if (!route(state, req, res, url)) {
    apiError(res, 404, 'Not Found', 'The requested resource was not found')
  }
}

function logged(state: SimState, server: LoggedRequest['server'], handler: Handler): Handler {
  return (req, res) => {
    // Logged on arrival, so that requests whose connection is cut still show.
    const entry: LoggedRequest = {
      server,
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      status: 0
    }
    state.log.push(entry)
    res.on('close', () => {
      entry.status = res.statusCode
    })
    try {
      handler(req, res)
    } catch (error) {
      res.destroy(error as Error)
    }
  }
}

export async function startSimulator(options: SimOptions): Promise<Simulator> {
  const state = createState(options)
  const { tls } = options
  const secure = (role: 'api' | 'files'): boolean =>
    tls !== undefined && (tls.roles ?? ['files']).includes(role)
  const server = (role: 'api' | 'files', handler: Handler): http.Server =>
    secure(role)
      ? https.createServer({ key: tls?.key, cert: tls?.cert }, handler)
      : http.createServer(handler)
  const origin = (role: 'api' | 'files', listening: http.Server): string =>
    `${secure(role) ? 'https' : 'http'}://127.0.0.1:${(listening.address() as AddressInfo).port}`
  const api = server(
    'api',
    logged(state, 'api', (req, res) => handleApi(state, req, res))
  )
  const files = server(
    'files',
    logged(state, 'files', (req, res) => handleFile(state, req, res))
  )
  files.on('connection', () => state.fileConnections.opened++)
  await Promise.all([listen(api), listen(files)])
  state.fileOrigin = origin('files', files)

  return {
    apiUrl: origin('api', api),
    fileOrigin: state.fileOrigin,
    log: state.log,
    createCalls: state.createCalls,
    created: state.created,
    counts: state.counts,
    fileConnections: state.fileConnections,
    polls: id => state.pollCounts.get(String(id)) ?? 0,
    stop: async () => {
      await Promise.all([close(api), close(files)])
    }
  }
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
}

function close(server: http.Server): Promise<void> {
  server.closeAllConnections()
  return new Promise(resolve => server.close(() => resolve()))
}
