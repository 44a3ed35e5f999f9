import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { artifactBlocker } from '../../../src/deliver/artifact.js'

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
