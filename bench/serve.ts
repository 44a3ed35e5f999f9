/**
 * What the cases serve and how they reach it: CSV bodies of any size from a megabyte of awkward
 * CSV, the simulator with a request that is complete at once, its signed file URLs, and the inputs
 * that point the action at it.
 */
import { awkwardCsv } from '../sim/data.js'
import {
  repeatBody,
  startSimulator,
  type FileBody,
  type SimOptions,
  type SimRequest,
  type Simulator
} from '../sim/simulator.js'
import { Inputs } from './src-imports.js'

export const TOKEN = 'bench_token_0123456789'
/** The request of the cases that serve one. */
export const REQUEST_ID = 6073

export function splitHeader(body: Buffer): { header: Buffer; block: Buffer } {
  const nl = body.indexOf(0x0a)
  return { header: body.subarray(0, nl + 1), block: body.subarray(nl + 1) }
}

// A ~1 MiB block of awkward CSV (quoted commas, quoted line breaks, doubled quotes) repeated, so
// that gigabytes are served from about a megabyte of memory.
const FILE_CSV = splitHeader(awkwardCsv(17_000, 7).body)

/** About `bytes` of CSV: the header and a whole number of blocks. */
export function csvBody(bytes: number): FileBody {
  const { header, block } = FILE_CSV
  return repeatBody(header, block, Math.max(1, Math.round((bytes - header.length) / block.length)))
}

/** The file host's cap and TLS: all a case sets of the simulator beyond what it serves. */
export type ServeOptions = Pick<SimOptions, 'bytesPerSecond' | 'tls'>

/** The simulator serving `requests` while `fn` runs; stopped after, whatever happens. */
export async function withRequests<T>(
  requests: SimRequest[],
  options: ServeOptions,
  fn: (sim: Simulator) => Promise<T>
): Promise<T> {
  const sim = await startSimulator({ token: TOKEN, ...options, requests })
  try {
    return await fn(sim)
  } finally {
    await sim.stop()
  }
}

/** The simulator serving `files` as request REQUEST_ID, complete at once, while `fn` runs. */
export function withSimulator<T>(
  files: { name: string; body: FileBody }[],
  options: ServeOptions,
  fn: (sim: Simulator, id: number) => Promise<T>
): Promise<T> {
  const id = REQUEST_ID
  return withRequests([{ id, pollsUntilComplete: 0, files }], options, sim => fn(sim, id))
}

/** The signed file URLs, asked for as the action would: the request, then its results. */
export async function signedUrls(sim: Simulator, id: number): Promise<string[]> {
  const headers = { authorization: `Basic ${Buffer.from(`${TOKEN}:`).toString('base64')}` }
  const request = await fetch(`${sim.apiUrl}/v3/requests/${id}`, { headers })
  await request.arrayBuffer()
  const results = await fetch(`${sim.apiUrl}/v3/results/${id}`, { headers })
  if (!results.ok) throw new Error(`/v3/results answered ${results.status}`)
  return ((await results.json()) as { url: string }[]).map(result => result.url)
}

/** The action's inputs for request `id` of the simulator at `apiUrl`, polled every 50 ms. */
export function actionInputs(
  sim: { apiUrl: string },
  id: number,
  extra: Record<string, string>
): Record<string, string> {
  return {
    [Inputs.Token]: TOKEN,
    [Inputs.RequestId]: String(id),
    [Inputs.ApiUrl]: sim.apiUrl,
    [Inputs.PollInterval]: '50ms',
    ...extra
  }
}
