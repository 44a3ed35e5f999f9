/**
 * The docs cannot rot: every relative link and #anchor resolves, inside the repository; every pin
 * of the same action is the same version everywhere a workflow is shown; the README stays short.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { anchors, links, slug } from '../../scripts/markdown.js'

const ROOT = process.cwd()
const inDir = (dir: string, ext: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter(name => name.endsWith(ext))
        .sort()
        .map(name => path.join(dir, name))
    : []

const MARKDOWN = [
  'README.md',
  'CONTRIBUTING.md',
  'ARCHITECTURE.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'bench/README.md',
  ...inDir('docs', '.md')
]

/** The README's limit, in bytes: a newcomer reads it whole; depth goes in docs/. */
const README_MAX_BYTES = 15 * 1024

describe('links and anchors', () => {
  it('GitHub anchors: lower case, punctuation dropped, spaces to hyphens', () => {
    expect(slug('Proxies, GitHub Enterprise Server and local runs')).toBe(
      'proxies-github-enterprise-server-and-local-runs'
    )
    expect(slug('Artifact upload and `compression-level`')).toBe(
      'artifact-upload-and-compression-level'
    )
    expect(slug('401 after a password change')).toBe('401-after-a-password-change')
    expect(slug('Running locally with @github/local-action')).toBe(
      'running-locally-with-githublocal-action'
    )
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n## B_c')]).toEqual([
      'a',
      'a-1',
      'b_c'
    ])
  })

  it.each(MARKDOWN)('every relative link and anchor of %s resolves inside the repository', file => {
    const text = readFileSync(file, 'utf8')
    const broken: string[] = []
    for (const { target, line } of links(text)) {
      if (/^[a-z][a-z\d+.-]*:/i.test(target) || target === '#' || target === '') continue
      const [pathPart = '', anchor] = target.split('#', 2)
      const resolved = pathPart ? path.resolve(path.dirname(file), pathPart) : path.resolve(file)
      const where = `${file}:${line}: ${target}`
      if (path.relative(ROOT, resolved).startsWith('..')) {
        broken.push(`${where} points outside the repository`)
        continue
      }
      if (!existsSync(resolved)) {
        broken.push(`${where}: no such file`)
        continue
      }
      if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
        if (!anchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor)))
          broken.push(`${where}: no heading makes #${anchor}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('every page of docs/ starts with the question it answers, and is linked from the docs index', () => {
    const index = readFileSync('docs/README.md', 'utf8')
    for (const page of inDir('docs', '.md')) {
      const [title, blank, question] = readFileSync(page, 'utf8').split('\n')
      expect(title, page).toMatch(/^# /)
      expect(blank, page).toBe('')
      expect(question, page).toMatch(/^_.*/)
      expect(readFileSync(page, 'utf8').split('\n\n')[1], page).toMatch(/\?_$/)
      if (page !== path.join('docs', 'README.md'))
        expect(index, `docs/README.md links ${page}`).toContain(`](${path.basename(page)})`)
    }
  })
})

describe('README size', () => {
  it(`README.md is at most ${README_MAX_BYTES} bytes`, () => {
    expect(statSync('README.md').size).toBeLessThanOrEqual(README_MAX_BYTES)
  })
})

/** `uses: owner/repo@ref # vX.Y.Z` in workflows, examples and the docs' YAML. */
function pins(): Map<string, Set<string>> {
  const files = [
    ...inDir('.github/workflows', '.yml'),
    ...inDir('examples', '.yml'),
    'README.md',
    ...inDir('docs', '.md')
  ]
  const found = new Map<string, Set<string>>()
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(
      /uses:\s*([\w.-]+\/[\w./-]+)@(\S+)(?:[ \t]+#[ \t]*(\S+))?/g
    )) {
      const [, action = '', ref = '', version = ''] = match
      if (/\/datafiniti-download-action$/.test(action)) continue
      const pin = `${ref} # ${version}`
      const seen = found.get(action) ?? new Set<string>()
      seen.add(pin)
      found.set(action, seen)
      const line = text.slice(0, match.index).split('\n').length
      ;(where[`${action}@${pin}`] ??= []).push(`${file}:${line}`)
    }
  }
  return found
}
const where: Record<string, string[]> = {}

describe('action pins', () => {
  it('every action is pinned to one version across .github/workflows, examples/, README and docs/', () => {
    const differing = [...pins()]
      .filter(([, versions]) => versions.size > 1)
      .map(
        ([action, versions]) =>
          `${action}: ${[...versions].map(v => `${v} (${(where[`${action}@${v}`] ?? []).join(', ')})`).join(' vs ')}`
      )
    expect(
      differing,
      'pin these to the version Dependabot keeps in .github/workflows (see CONTRIBUTING.md, "Documentation")'
    ).toEqual([])
  })

  it('finds the pins it compares', () => {
    const found = pins()
    expect(found.get('actions/download-artifact')?.size).toBe(1)
    expect(found.get('actions/checkout')?.size).toBe(1)
  })
})
