import { afterEach, describe, expect, it, vi } from 'vitest'
import { githubRunner } from '../../src/github.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('githubRunner', () => {
  it('prints an info line that would be a workflow command as plain text, on one line', () => {
    const written: string[] = []
    vi.spyOn(process.stdout, 'write').mockImplementation(chunk => {
      written.push(String(chunk))
      return true
    })
    githubRunner({}).info('::stop-commands::x\n::warning::y ##[add-mask]z')
    const lines = written
      .join('')
      .split(/\r\n|\r|\n/)
      .filter(Boolean)
    // Mid-line, '::' starts nothing: only the line's start and '##[' are commands.
    expect(lines).toEqual([': :stop-commands::x ::warning::y # #[add-mask]z'])
  })
})
