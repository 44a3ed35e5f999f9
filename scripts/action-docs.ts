/** README input and output tables, generated from action.yml so that the two cannot drift. */
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

interface ActionMetadata {
  inputs?: Record<string, { description?: string; required?: boolean; default?: string }>
  outputs?: Record<string, { description?: string }>
}

const cell = (text: string): string =>
  text
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\s*\n\s*/g, ' ')
    .trim()

export function renderInputs(actionYml: string): string {
  const meta = parse(actionYml) as ActionMetadata
  const rows = Object.entries(meta.inputs ?? {}).map(([name, input]) => {
    const fallback = input.required ? '**required**' : input.default ? `\`${input.default}\`` : ''
    return `| \`${name}\` | ${fallback} | ${cell(input.description ?? '')} |`
  })
  return ['| Input | Default | Description |', '| --- | --- | --- |', ...rows].join('\n')
}

export function renderOutputs(actionYml: string): string {
  const meta = parse(actionYml) as ActionMetadata
  const rows = Object.entries(meta.outputs ?? {}).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description ?? '')} |`
  )
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

/** The README with its generated tables brought up to date, formatted as `prettier --check` wants. */
export async function updateReadme(
  readme: string,
  actionYml: string,
  file = 'README.md'
): Promise<string> {
  const text = replaceBetween(
    replaceBetween(readme, 'inputs', renderInputs(actionYml)),
    'outputs',
    renderOutputs(actionYml)
  )
  const options = (await resolveConfig(file)) ?? {}
  return format(text, { ...options, filepath: file })
}
