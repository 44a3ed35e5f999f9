import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../../sim/runner.js'

/**
 * The shape of src/ (ARCHITECTURE.md), checked: imports flow one way, stages meet only in
 * pipeline.ts and its steps, and no module grows past what a newcomer reads at a sitting.
 */
const SRC = path.join(ROOT, 'src')

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sources(full)
    return /\.(ts|cjs)$/.test(entry.name) ? [path.relative(SRC, full)] : []
  })
}

const STAGES = ['inputs', 'api', 'transfer', 'deliver', 'report']

/** Lower layers never import higher ones; stages (STAGE) import only the layers below them. */
const STAGE = 3
function layer(file: string): number {
  const top = file.split('/')[0] ?? ''
  if (top === 'support') return 0
  // The HTTP stack: the API client and the file transfers both stand on it.
  if (top === 'http') return 1
  if (top === 'domain') return 2
  if (STAGES.includes(top)) return STAGE
  // The pipeline, and the steps it is read as, are where stages meet.
  if (file === 'ports.ts' || file === 'pipeline.ts' || top === 'steps') return 4
  if (file === 'github.ts' || file === 'main.ts') return 5
  if (file === 'index.ts') return 6
  throw new Error(`src/${file} belongs to no layer: add it to the architecture test`)
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8')
  const found = [...text.matchAll(/(?:from|import\(|require\()\s*'(\.{1,2}\/[^']+)'/g)].map(
    m => m[1] ?? ''
  )
  return found
    .map(spec => path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), spec)))
    .filter(target => !target.startsWith('..'))
    .map(target => target.replace(/\.js$/, '.ts'))
}

const files = sources()
const graph = new Map(files.map(file => [file, imports(file)]))

describe('src/ architecture', () => {
  it('finds the modules and their imports', () => {
    expect(files).toContain('pipeline.ts')
    expect(graph.get('steps/download.ts')).toContain('transfer/pool.ts')
    for (const targets of graph.values()) for (const t of targets) expect(files).toContain(t)
  })

  it('imports flow downwards only, and stages meet only in pipeline.ts and src/steps/', () => {
    const wrong: string[] = []
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [from, to] = [layer(file), layer(target)]
        const sameFolder = path.dirname(file) === path.dirname(target) && path.dirname(file) !== '.'
        if (to > from || (to === from && from === STAGE && !sameFolder))
          wrong.push(`${file} → ${target}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('keeps network code in src/http/ only', () => {
    const network =
      /(?:from|import\(|require\()\s*'(?:node:)?(?:net|tls|http|https|http2|dgram|dns)'|'@actions\/http-client|'undici'/
    // A type from node:http (a header record) is no network code; a value import is.
    const code = (file: string): string =>
      readFileSync(path.join(SRC, file), 'utf8').replace(/^import type .*$/gm, '')
    const outside = files.filter(file => !file.startsWith('http/') && network.test(code(file)))
    expect(outside).toEqual([])
  })

  it('gives every module a base name of its own (index.ts aside)', () => {
    const byName = new Map<string, string[]>()
    for (const file of files) {
      const base = path.basename(file).replace(/\.(ts|cjs)$/, '')
      if (base !== 'index') byName.set(base, [...(byName.get(base) ?? []), file])
    }
    expect([...byName.values()].filter(list => list.length > 1)).toEqual([])
  })

  it('declares every exported type, interface and class once', () => {
    const declared = new Map<string, string[]>()
    for (const file of files) {
      const text = readFileSync(path.join(SRC, file), 'utf8')
      for (const m of text.matchAll(/^export (?:declare )?(?:interface|type|class|enum) (\w+)/gm)) {
        const name = m[1] ?? ''
        declared.set(name, [...(declared.get(name) ?? []), file])
      }
    }
    expect([...declared].filter(([, where]) => where.length > 1)).toEqual([])
  })

  it('leaves every mode to its delivery target: no branch on it in the pipeline, steps or report', () => {
    const branch = /\bmode\s*[!=]==|[!=]==\s*'(artifact|files|urls)'|case '(artifact|files|urls)'/
    const branching = files.filter(
      file =>
        (file === 'pipeline.ts' || /^(steps|report)\//.test(file)) &&
        branch.test(readFileSync(path.join(SRC, file), 'utf8'))
    )
    expect(branching).toEqual([])
  })

  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' → '))
        return
      }
      state.set(file, 'open')
      for (const target of graph.get(file) ?? []) visit(target, [...trail, file])
      state.set(file, 'done')
    }
    for (const file of files) visit(file, [])
    expect(cycles).toEqual([])
  })

  it('keeps every module small, main.ts to the wiring and index.ts to one call', () => {
    const lines = (file: string): number =>
      readFileSync(path.join(SRC, file), 'utf8').split('\n').length
    const large = files.filter(file => lines(file) > 250).map(file => `${file}: ${lines(file)}`)
    expect(large).toEqual([])
    expect(lines('main.ts')).toBeLessThanOrEqual(60)
    const index = readFileSync(path.join(SRC, 'index.ts'), 'utf8')
    expect(index.replace(/^import .*\n/gm, '').trim()).toBe('void run()')
  })

  it('mirrors src/ in test/unit, and keeps tests that start servers under test/integration', () => {
    const UNIT = path.join(ROOT, 'test', 'unit')
    const tests = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
        const full = path.join(dir, entry.name)
        if (entry.isDirectory()) return tests(full)
        return entry.name.endsWith('.test.ts') ? [path.relative(UNIT, full)] : []
      })
    // Checks of the repository as a whole rather than of one module.
    const WHOLE_REPO = ['architecture', 'docs', 'docs-links', 'large-downloads-doc']
    const unit = tests(UNIT)
    const orphans = unit.filter(test => {
      const module = test.replace(/\.test\.ts$/, '')
      return (
        !WHOLE_REPO.includes(module) &&
        !files.some(file => file.replace(/\.(ts|cjs)$/, '') === module)
      )
    })
    expect(orphans).toEqual([])
    const servers = unit.filter(
      test =>
        !WHOLE_REPO.includes(test.replace(/\.test\.ts$/, '')) &&
        /createServer|startSimulator|startArtifactBackend|runAction\(/.test(
          readFileSync(path.join(UNIT, test), 'utf8')
        )
    )
    expect(servers).toEqual([])
  })

  it('keeps history out of comments: no commit hashes, issue numbers or bench case numbers', () => {
    const HISTORY = /\b[0-9a-f]{7,40}\b|\bissue #?\d+|\bcase \d+\b/i
    const narrated = files.flatMap(file =>
      readFileSync(path.join(SRC, file), 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
        .filter(({ line }) => /^\s*(\/\/|\*|\/\*)/.test(line) && HISTORY.test(line))
        .map(({ at }) => at)
    )
    expect(narrated).toEqual([])
  })
})
