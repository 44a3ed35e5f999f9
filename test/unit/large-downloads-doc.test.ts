import { readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/**
 * The sharded workflow lives once, in examples/large-download.yml (linted by
 * `npm run lint:workflows`): docs/large-downloads.md links it, and no page keeps a copy to drift.
 */
describe('docs/large-downloads.md', () => {
  const example = readFileSync('examples/large-download.yml', 'utf8')
  const pages = ['README.md', ...readdirSync('docs').map(name => `docs/${name}`)]

  it('links examples/large-download.yml', () => {
    expect(readFileSync('docs/large-downloads.md', 'utf8')).toContain(
      '](../examples/large-download.yml)'
    )
  })

  it.each(pages)('%s does not copy the example', page => {
    expect(readFileSync(page, 'utf8')).not.toContain(example.split('\n').slice(0, 12).join('\n'))
  })
})
