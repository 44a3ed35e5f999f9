/** What the v3 and v4 API roles share: the auth check, JSON answers and scripted status faults. */
import type * as http from 'node:http'
import { hostileAnswer } from './hostile.js'
import type { ApiVersion, SimState } from './state.js'
import type { Fault } from './types.js'

export function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text)
  })
  res.end(text)
}

export function apiError(
  res: http.ServerResponse,
  status: number,
  error: string,
  message: string
): void {
  json(res, status, { error, message, code: status })
}

/** v3 takes Basic with the token as user name and no password, v4 a Bearer token; else 401. */
export function authorize(
  state: SimState,
  version: ApiVersion,
  req: http.IncomingMessage,
  res: http.ServerResponse
): boolean {
  const tokens = [state.options.token, ...(state.options.otherAccounts ?? [])]
  const expected = (token: string): string =>
    version === 'v4' ? `Bearer ${token}` : `Basic ${Buffer.from(`${token}:`).toString('base64')}`
  if (tokens.some(token => req.headers.authorization === expected(token))) return true
  apiError(res, 401, 'Unauthorized', 'Authentication required. Please provide a valid API token')
  return false
}

/** Applies a scripted status fault; stream faults only make sense on the file host. */
export function statusFault(res: http.ServerResponse, faults: Fault[] | undefined): boolean {
  const fault = faults?.shift()
  if (!fault) return false
  if (hostileAnswer(res, fault)) return true
  if ('status' in fault) {
    const body =
      fault.body ??
      JSON.stringify({ error: 'Simulated', message: 'simulated fault', code: fault.status })
    res.writeHead(fault.status, { 'Content-Length': Buffer.byteLength(body), ...fault.headers })
    res.end(body)
    return true
  }
  if ('hangUp' in fault) {
    res.socket?.destroy()
    return true
  }
  if ('reset' in fault) {
    res.socket?.resetAndDestroy()
    return true
  }
  if ('pass' in fault) return false
  throw new Error('stream faults apply to files only')
}
