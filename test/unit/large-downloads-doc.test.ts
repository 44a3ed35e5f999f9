import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/** README's "Large downloads" workflow is the linted example, word for word. */
describe('README "Large downloads"', () => {
  it('shows examples/large-download.yml, which `npm run lint:workflows` lints', () => {
    const readme = readFileSync('README.md', 'utf8')
    const section = readme.split('\n## Large downloads\n')[1]?.split('\n## ')[0] ?? ''
    const workflow = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
    expect(workflow).toBe(readFileSync('examples/large-download.yml', 'utf8'))
  })
})
