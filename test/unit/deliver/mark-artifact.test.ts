import { describe, expect, it } from 'vitest'
import type { Artifacts } from '../../../src/deliver/artifact.js'
import { readMarkArtifact, writeMarkArtifact } from '../../../src/deliver/mark-artifact.js'
import type { Http, TextResponse } from '../../../src/http/transport.js'

const NAME = 'datafiniti-mark-0123456789abcdef0123456789abcdef'
const ENV = { GITHUB_REPOSITORY: 'octo/data', GITHUB_API_URL: 'https://api.example/' }

function http(answer: TextResponse) {
  const asked: { url: string; headers: Record<string, string> }[] = []
  const client: Http = {
    getText: (url, headers) => (asked.push({ url, headers }), Promise.resolve(answer)),
    postText: () => Promise.reject(new Error('no POST')),
    getStream: () => Promise.reject(new Error('no stream'))
  }
  return { client, asked }
}

describe('readMarkArtifact', () => {
  it('lists the artifacts of that name across the repository with the token', async () => {
    const { client, asked } = http({
      status: 200,
      headers: {},
      text: JSON.stringify({
        total_count: 1,
        artifacts: [
          {
            id: 5,
            name: NAME,
            expired: true,
            created_at: '2026-01-01T00:00:00Z',
            workflow_run: { id: 9 }
          }
        ]
      })
    })
    // Only an expired one: no mark, and nothing downloaded.
    expect(await readMarkArtifact(NAME, ENV, client, 'ghs_token')).toBeUndefined()
    expect(asked).toEqual([
      {
        url: `https://api.example/repos/octo/data/actions/artifacts?name=${NAME}&per_page=30`,
        headers: {
          Accept: 'application/vnd.github+json',
          Authorization: 'Bearer ghs_token',
          'X-GitHub-Api-Version': '2022-11-28'
        }
      }
    ])
  })

  it('says why it cannot read: no permission, no token, not a workflow run', async () => {
    const forbidden = http({
      status: 403,
      headers: {},
      text: '{"message":"Resource not accessible by integration"}'
    })
    await expect(readMarkArtifact(NAME, ENV, forbidden.client, 'ghs_token')).rejects.toThrow(
      "the GitHub API answered 403 to listing the repository's artifacts: 'github-token' needs 'actions: read'"
    )
    const none = http({ status: 200, headers: {}, text: '{}' })
    await expect(readMarkArtifact(NAME, ENV, none.client, '')).rejects.toThrow(
      "'github-token' is empty"
    )
    await expect(readMarkArtifact(NAME, {}, none.client, 'ghs_token')).rejects.toThrow(
      'not a workflow run'
    )
    expect(none.asked).toEqual([])
  })
})

describe('writeMarkArtifact', () => {
  it('replaces the one an earlier attempt of the run left, then uploads mark.json', async () => {
    const events: string[] = []
    const artifacts: Artifacts = {
      blocker: () => undefined,
      find: name => (events.push(`find ${name}`), Promise.resolve(3)),
      remove: name => (events.push(`remove ${name}`), Promise.resolve(3)),
      upload: (name, files) => {
        events.push(`upload ${name} ${files.map(f => f.split('/').at(-1)).join(',')}`)
        return Promise.resolve({ id: 4, size: 1, digest: undefined, url: undefined })
      }
    }
    await writeMarkArtifact(NAME, { version: 1 }, {}, artifacts)
    expect(events).toEqual([`find ${NAME}`, `remove ${NAME}`, `upload ${NAME} mark.json`])
  })

  it('fails with the reason where artifacts cannot be uploaded', async () => {
    const artifacts = { blocker: () => 'no runtime here' } as unknown as Artifacts
    await expect(writeMarkArtifact(NAME, {}, {}, artifacts)).rejects.toThrow('no runtime here')
  })
})
