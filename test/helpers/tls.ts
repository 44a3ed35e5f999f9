/**
 * The simulator's throw-away CA (sim/throwaway-ca.ts), made when a test file loads and removed
 * after its tests.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll } from 'vitest'
import { makeThrowawayCa, type ThrowawayCa } from '../../sim/throwaway-ca.js'

export type { ThrowawayCa }

/** Signs a certificate for 127.0.0.1, localhost and `names`; removed after the file's tests. */
export function useThrowawayCa(names: readonly string[] = []): ThrowawayCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'throwaway-ca-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return makeThrowawayCa(dir, names)
}
