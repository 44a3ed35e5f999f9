/** README input and output tables, generated from action.yml so that the two cannot drift. */
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

interface ActionMetadata {
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>
  outputs?: Record<string, { description?: string }>
}

/**
 * The one place that sorts inputs and outputs into the README's two tables of each: the names
 * below are "common", every other input or output of action.yml is "advanced". A new one is
 * therefore listed, under "Advanced", as soon as action.yml declares it; add its name here (one
 * line) to move it up. A name here that action.yml does not declare fails the docs test.
 */
export const COMMON = {
  inputs: [
    'token',
    'query',
    'data-type',
    'num-records',
    'request-id',
    'api-version',
    'format',
    'mode',
    'artifact-name',
    'retention-days',
    'if-no-results',
    'max-records',
    'dry-run'
  ],
  outputs: [
    'request-id',
    'status',
    'artifact-name',
    'file-count',
    'record-count',
    'row-count',
    'num-found',
    'manifest'
  ]
} as const satisfies Record<'inputs' | 'outputs', readonly string[]>

export type Category = 'common' | 'advanced'

export function categoryOf(kind: 'inputs' | 'outputs', name: string): Category {
  return (COMMON[kind] as readonly string[]).includes(name) ? 'common' : 'advanced'
}

const cell = (text: string): string =>
  text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\s*\n\s*/g, ' ')
    .trim()

/** The default column: what the runner passes when a workflow leaves the input out. */
export function defaultCell(input: { required?: boolean; default?: string }): string {
  return input.required ? '**required**' : input.default ? `\`${input.default}\`` : ''
}

export function renderInputs(actionYml: string, category: Category): string {
  const meta = parse(actionYml) as ActionMetadata
  const rows = Object.entries(meta.inputs ?? {})
    .filter(([name]) => categoryOf('inputs', name) === category)
    .map(
      ([name, input]) =>
        `| \`${name}\` | ${defaultCell(input)} | ${cell(input.description ?? '')} |`
    )
  return ['| Input | Default | Description |', '| --- | --- | --- |', ...rows].join('\n')
}

export function renderOutputs(actionYml: string, category: Category): string {
  const meta = parse(actionYml) as ActionMetadata
  const rows = Object.entries(meta.outputs ?? {})
    .filter(([name]) => categoryOf('outputs', name) === category)
    .map(([name, output]) => `| \`${name}\` | ${cell(output.description ?? '')} |`)
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n')
}

function replaceBetween(text: string, marker: string, content: string): string {
  const start = `<!-- ${marker}:start -->`
  const end = `<!-- ${marker}:end -->`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  if (from === -1 || to === -1 || to < from)
    throw new Error(`README.md lacks the ${start} … ${end} markers`)
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`
}

/**
 * The "Common" and "Advanced" tables of one kind, under their headings, as prettier leaves them:
 * aligned, a table pads every row to its longest cell, which would double the README's size.
 */
export function renderSection(actionYml: string, kind: 'inputs' | 'outputs'): string {
  const render = kind === 'inputs' ? renderInputs : renderOutputs
  const noun = kind === 'inputs' ? 'inputs' : 'outputs'
  return [
    '<!-- prettier-ignore-start -->',
    `### Common ${noun}`,
    '',
    render(actionYml, 'common'),
    '',
    `### Advanced ${noun}`,
    '',
    render(actionYml, 'advanced'),
    '<!-- prettier-ignore-end -->'
  ].join('\n')
}

/** The README with its generated tables brought up to date, formatted as `prettier --check` wants. */
export async function updateReadme(
  readme: string,
  actionYml: string,
  file = 'README.md'
): Promise<string> {
  let text = readme
  for (const kind of ['inputs', 'outputs'] as const)
    text = replaceBetween(text, kind, renderSection(actionYml, kind))
  const options = (await resolveConfig(file)) ?? {}
  return format(text, { ...options, filepath: file })
}
