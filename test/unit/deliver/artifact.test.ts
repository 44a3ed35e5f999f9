import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { artifactBlocker, artifactUrl, isGhes } from '../../../src/deliver/artifact.js'

const RUNTIME = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  ACTIONS_RESULTS_URL: 'https://results.example/'
}

describe('isGhes', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['https://github.com', false],
    ['https://GitHub.com/', false],
    ['https://foo.ghe.com', false],
    ['https://x.localhost', false],
    ['http://x.localhost:3000', false],
    ['not a url', false],
    ['https://ghes.example.com', true],
    ['https://github.example.com', true],
    ['https://ghe.com.evil.example', true],
    ['https://notgithub.com', true]
  ])('GITHUB_SERVER_URL %j → %s', (server, expected) => {
    expect(isGhes({ GITHUB_SERVER_URL: server })).toBe(expected)
  })
})

describe('artifactBlocker', () => {
  it('allows artifact mode on github.com with the runtime variables', () => {
    expect(artifactBlocker({ GITHUB_SERVER_URL: 'https://github.com', ...RUNTIME })).toBeUndefined()
    expect(artifactBlocker({ ...RUNTIME })).toBeUndefined()
    expect(
      artifactBlocker({ GITHUB_SERVER_URL: 'https://acme.ghe.com', ...RUNTIME })
    ).toBeUndefined()
  })

  it('blocks GHES, naming the server and suggesting mode: files', () => {
    const message = artifactBlocker({ GITHUB_SERVER_URL: 'https://ghes.example.com', ...RUNTIME })
    expect(message).toBeDefined()
    expect(message).toContain('GitHub Enterprise Server')
    expect(message).toContain('https://ghes.example.com')
    expect(message).toContain("'mode: files'")
    expect(message).toContain("'path'")
  })

  it.each([
    ['no runtime token', { ACTIONS_RESULTS_URL: 'https://results.example/' }],
    ['no results URL', { ACTIONS_RUNTIME_TOKEN: 'x' }],
    ['neither', {}],
    ['empty values', { ACTIONS_RUNTIME_TOKEN: '', ACTIONS_RESULTS_URL: '' }]
  ])('blocks outside the Actions runtime (%s), suggesting mode: files', (_what, env) => {
    const message = artifactBlocker({ GITHUB_SERVER_URL: 'https://github.com', ...env })
    expect(message).toBeDefined()
    expect(message).toContain('ACTIONS_RUNTIME_TOKEN')
    expect(message).toContain("'mode: files'")
  })

  it('never echoes the runtime token', () => {
    const message = artifactBlocker({
      GITHUB_SERVER_URL: 'https://ghes.example.com',
      ACTIONS_RUNTIME_TOKEN: 'super-secret-runtime',
      ACTIONS_RESULTS_URL: 'https://r/'
    })
    expect(message).not.toContain('super-secret-runtime')
  })
})

describe('artifactUrl', () => {
  const env = { GITHUB_REPOSITORY: 'octo/repo', GITHUB_RUN_ID: '123' }

  it('builds the run artifact URL on github.com by default', () => {
    expect(artifactUrl(env, 456)).toBe(
      'https://github.com/octo/repo/actions/runs/123/artifacts/456'
    )
  })

  it('uses the server URL without trailing slashes', () => {
    expect(artifactUrl({ ...env, GITHUB_SERVER_URL: 'https://acme.ghe.com//' }, 7)).toBe(
      'https://acme.ghe.com/octo/repo/actions/runs/123/artifacts/7'
    )
    expect(artifactUrl({ ...env, GITHUB_SERVER_URL: '' }, 7)).toBe(
      'https://github.com/octo/repo/actions/runs/123/artifacts/7'
    )
  })

  it('is undefined outside a workflow run', () => {
    expect(artifactUrl({ GITHUB_RUN_ID: '123' }, 1)).toBeUndefined()
    expect(artifactUrl({ GITHUB_REPOSITORY: 'octo/repo' }, 1)).toBeUndefined()
    expect(artifactUrl({ GITHUB_REPOSITORY: '', GITHUB_RUN_ID: '' }, 1)).toBeUndefined()
    expect(artifactUrl({}, 1)).toBeUndefined()
  })
})

/** Artifact mode under @github/local-action, whose stub stores artifacts in a local directory. */
describe('artifactBlocker under @github/local-action', () => {
  const local = { TARGET_ACTION_PATH: '/src/action', LOCAL_ACTION_ARTIFACT_PATH: tmpdir() }

  it('lets the stub take the upload: no runtime token needed', () => {
    expect(artifactBlocker(local)).toBeUndefined()
  })

  it('names a store directory that does not exist, before anything is downloaded', () => {
    const missing = path.join(tmpdir(), 'no-such-artifact-store-8d1f')
    expect(artifactBlocker({ ...local, LOCAL_ACTION_ARTIFACT_PATH: missing })).toMatch(
      /LOCAL_ACTION_ARTIFACT_PATH, which is not a directory/
    )
  })

  it('still refuses without the runtime when only one of the two variables is set', () => {
    for (const env of [
      { LOCAL_ACTION_ARTIFACT_PATH: tmpdir() },
      { TARGET_ACTION_PATH: '/src/action' }
    ]) {
      expect(artifactBlocker(env)).toMatch(/needs the GitHub Actions runtime/)
    }
  })

  it('still refuses on GitHub Enterprise Server', () => {
    expect(artifactBlocker({ ...local, GITHUB_SERVER_URL: 'https://ghe.example.com' })).toMatch(
      /not supported on GitHub Enterprise Server/
    )
  })
})
