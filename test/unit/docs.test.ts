import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { COMMON, defaultCell, updateReadme } from '../../scripts/action-docs.js'
import { DOC_FILES, lintFiles, markdownSources } from '../../scripts/lint-workflows.js'
import { GENERATED, generatedSource } from '../../scripts/wasm-module.js'
import { Inputs, Outputs } from '../../src/domain/action-io.js'

const actionYml = readFileSync('action.yml', 'utf8')
const meta = parse(actionYml) as {
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>
  outputs: Record<string, { description?: string }>
  runs: { using: string; main: string }
}

describe('docs and metadata', () => {
  it("README's input and output tables are generated from action.yml (run `npm run docs`)", async () => {
    const readme = readFileSync('README.md', 'utf8')
    expect(await updateReadme(readme, actionYml)).toBe(readme)
  })

  it("README's tables list every input and output of action.yml exactly once, inputs with their default", () => {
    const readme = readFileSync('README.md', 'utf8')
    const rows = (name: string) =>
      readme.split('\n').filter(line => line.startsWith(`| \`${name}\` |`))
    for (const [name, input] of Object.entries(meta.inputs)) {
      // An input and an output may share a name (request-id, artifact-name, shard): one row each.
      const inputRows = rows(name).filter(row => row.split(' | ').length === 3)
      expect(inputRows, `input ${name}`).toHaveLength(1)
      expect(inputRows[0]?.split(' | ')[1], `default of input ${name}`).toBe(defaultCell(input))
    }
    for (const name of Object.keys(meta.outputs)) {
      const outputRows = rows(name).filter(row => row.split(' | ').length === 2)
      expect(outputRows, `output ${name}`).toHaveLength(1)
    }
  })

  it('the common inputs and outputs named in scripts/action-docs.ts are declared in action.yml', () => {
    for (const name of COMMON.inputs)
      expect(Object.keys(meta.inputs), 'COMMON.inputs').toContain(name)
    for (const name of COMMON.outputs)
      expect(Object.keys(meta.outputs), 'COMMON.outputs').toContain(name)
  })

  it('every ```yaml block of README.md and docs/ lints as a workflow (npm run lint:workflows)', async () => {
    const problems = await lintFiles(DOC_FILES())
    expect(
      problems.map(p => `${p.file}:${p.line}:${p.column}: ${p.message} [${p.source}]`)
    ).toEqual([])
  }, 60_000)

  it("README's quick start is a whole workflow a newcomer can start by hand at once", () => {
    const readme = readFileSync('README.md', 'utf8')
    const section = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? ''
    const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
    const workflow = parse(block) as {
      on: { schedule?: { cron: string }[]; workflow_dispatch?: unknown }
      permissions?: Record<string, string>
      jobs: Record<
        string,
        { 'timeout-minutes'?: number; steps: { with?: Record<string, unknown> }[] }
      >
    }
    expect(Object.keys(workflow.on)).toEqual(
      expect.arrayContaining(['schedule', 'workflow_dispatch'])
    )
    // A minute off the hour: GitHub delays, and may drop, runs due at minute 0.
    for (const { cron } of workflow.on.schedule ?? [])
      expect(cron.split(' ')[0]).not.toMatch(/^0?0$/)
    expect(workflow.permissions).toEqual({ contents: 'read' })
    for (const job of Object.values(workflow.jobs)) {
      expect(job['timeout-minutes']).toBeGreaterThan(60)
      const step = job.steps.find(s => s.with?.token)
      expect(step?.with?.token).toBe('${{ secrets.DATAFINITI_TOKEN }}')
      expect(Number(step?.with?.['num-records'])).toBeLessThanOrEqual(100)
    }
  })

  it('lints a workflow block as it is, wraps a list of steps in a job, skips `yaml fragment`, flags the rest', () => {
    const md = [
      '```yaml\non: push\njobs: {}\n```',
      '```yaml\n- run: echo hi\n```',
      '```yaml fragment\nwith: { token: x }\n```',
      '```yaml\nwith: { token: x }\n```',
      '```sh\necho not yaml\n```'
    ].join('\n\n')
    const sources = markdownSources('doc.md', md)
    expect(sources.map(s => s.kind)).toEqual(['workflow', 'workflow', 'neither'])
    expect(sources[1]?.text).toContain('    steps:\n      - run: echo hi')
    // Line 1 of the wrapped steps' own text is line 7 of the markdown.
    expect(
      (sources[1]?.text.split('\n').indexOf('      - run: echo hi') ?? 0) +
        1 +
        (sources[1]?.lineShift ?? 0)
    ).toBe(7)
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
