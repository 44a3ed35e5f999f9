import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach } from 'vitest'

/**
 * A fresh directory for each test of the enclosing suite, removed after it: read `path` inside a
 * test (it changes from test to test).
 */
export function useTempDir(prefix: string): { readonly path: string } {
  let dir: string | undefined
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix))
  })
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })
  return {
    get path() {
      if (dir === undefined) throw new Error('the temporary directory exists only during a test')
      return dir
    }
  }
}
