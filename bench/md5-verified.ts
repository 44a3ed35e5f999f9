/**
 * What cases 7 and 8 share: downloads the action must verify by MD5. The other cases serve
 * `repeatBody` files, whose multipart-style ETag is no MD5, so the action never hashes them and
 * they leave out the cost that real single-part S3 objects carry. Here a body gets its real MD5,
 * the file host sends it as a plain ETag, and each action run is held to having checked it.
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import type { FileBody, Simulator } from '../sim/simulator.js'
import { actionFiles } from './contenders.js'
import type { Bench } from './setup.js'
import { Outputs, type Manifest } from './src-imports.js'
import type { ActionResult } from './timed-spawn.js'

export interface Digests {
  md5: string
  sha256: string
}

/**
 * `body` with its real MD5 set, so that the file host sends it as a plain ETag, and its sha256
 * (to hold the action's manifest to). Hashed by streaming it once: a GiB is never in memory.
 */
export async function verifiedBody(body: FileBody): Promise<{ body: FileBody; digests: Digests }> {
  const md5 = createHash('md5')
  const sha256 = createHash('sha256')
  for await (const chunk of body.stream(0, body.size) as AsyncIterable<Buffer>) {
    md5.update(chunk)
    sha256.update(chunk)
  }
  const digests = { md5: md5.digest('hex'), sha256: sha256.digest('hex') }
  return { body: { ...body, md5: digests.md5 }, digests }
}

export interface Expect {
  count: number
  bytes: number
  /** Every file's content is the same body here, so one digest stands for all. */
  digests: Digests
}

/**
 * Holds a finished action run to what these cases are for: its manifest says each file was
 * checked by MD5, with the sha256 of the body served. A run that fell back to a length check
 * fails the bench.
 */
function expectMd5Verified(run: ActionResult, expect: Expect): void {
  const manifestPath = run.outputs[Outputs.Manifest] ?? ''
  if (manifestPath === '' || !existsSync(manifestPath)) {
    throw new Error(`The action's manifest output (${manifestPath || 'empty'}) names no file`)
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest
  const wrong = manifest.files.filter(
    file => file.integrity !== 'md5' || file.sha256 !== expect.digests.sha256
  )
  if (manifest.files.length !== expect.count || wrong.length > 0) {
    throw new Error(
      `The action's manifest lists ${manifest.files.length} file(s), expected ${expect.count}; ` +
        `not verified by MD5 or with the wrong sha256: ${
          wrong.map(file => `${file.name} (${file.integrity})`).join(', ') || 'none'
        }`
    )
  }
}

/**
 * The action in files mode, held to an MD5 check, with the most file connections it had open at
 * once; its work directory is removed before this returns.
 */
export async function verifiedAction(
  bench: Bench,
  sim: Simulator,
  id: number,
  extra: Record<string, string>,
  env: Record<string, string>,
  expect: Expect
): Promise<ActionResult & { connections: number }> {
  // The most file responses in progress at once, sampled: the simulator's own maximum also counts
  // the instant a keep-alive connection's next request arrives before the last response's 'close'.
  let most = 0
  const sampler = setInterval(() => (most = Math.max(most, sim.fileConnections.now)), 10)
  try {
    const check = (run: ActionResult): void => expectMd5Verified(run, expect)
    const run = await actionFiles(bench, sim, id, extra, expect, { env, check })
    return { ...run, connections: most }
  } finally {
    clearInterval(sampler)
  }
}
