import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { updateReadme } from '../../scripts/action-docs.js'
import { GENERATED, generatedSource } from '../../scripts/wasm-module.js'
import { Inputs, Outputs } from '../../src/domain/action-io.js'

const actionYml = readFileSync('action.yml', 'utf8')
const meta = parse(actionYml) as {
  inputs: Record<string, { description?: string; default?: unknown }>
  outputs: Record<string, { description?: string }>
  runs: { using: string; main: string }
}

describe('docs and metadata', () => {
  it("README's input and output tables are generated from action.yml (run `npm run docs`)", async () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(await updateReadme(readme, actionYml)).toBe(readme)
  })

  it('src/transfer/csv-scan-wasm.ts is assembled from src/transfer/csv-scan.wat (run `npm run build:wasm`)', async () => {
    expect(await generatedSource()).toBe(readFileSync(GENERATED, 'utf8'))
  })

  it('action.yml declares exactly the inputs and outputs the code reads and writes', () => {
    expect(Object.keys(meta.inputs).sort()).toEqual(Object.values(Inputs).sort())
    expect(Object.keys(meta.outputs).sort()).toEqual(Object.values(Outputs).sort())
  })

  it('describes everything, with defaults as strings, and runs dist/index.js on node20', () => {
    for (const input of Object.values(meta.inputs)) {
      expect(input.description?.length).toBeGreaterThan(10)
      if (input.default !== undefined) expect(typeof input.default).toBe('string')
    }
    for (const output of Object.values(meta.outputs))
      expect(output.description?.length).toBeGreaterThan(10)
    expect(meta.runs).toEqual({ using: 'node20', main: 'dist/index.js' })
  })
})
