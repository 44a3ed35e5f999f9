import { describe, expect, it } from 'vitest'
import type { QuerySpec } from '../../../src/domain/model.js'
import { markScope, type ScopeInputs } from '../../../src/inputs/mark-scope.js'

const TOKEN = 'tok_scope_secret_0123456789'
const query: QuerySpec = {
  query: 'categories:cosmetics',
  dataType: 'products',
  format: 'CSV',
  numRecords: 'all',
  view: undefined
}
const inputs: ScopeInputs = {
  query,
  apiVersion: 'v4',
  apiUrl: 'https://api.datafiniti.co',
  field: 'dateUpdated',
  token: TOKEN
}
const env = {
  GITHUB_REPOSITORY: 'o/r',
  GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/weekly.yml@refs/heads/main',
  GITHUB_JOB: 'fetch',
  GITHUB_ACTION: 'datafiniti',
  GITHUB_RUN_ID: '100',
  GITHUB_RUN_ATTEMPT: '1'
}

describe('markScope', () => {
  it('is the same for every run of the same workflow, branch, job, step, query and token', () => {
    const first = markScope(env, inputs)
    const later = markScope({ ...env, GITHUB_RUN_ID: '200', GITHUB_RUN_ATTEMPT: '3' }, inputs)
    expect(later.name).toBe(first.name)
    expect(later.queryHash).toBe(first.queryHash)
    expect([later.runId, later.runAttempt]).toEqual(['200', '3'])
  })

  it('differs by branch, job, step, workflow, query inputs, field and token', () => {
    const names = [
      markScope(env, inputs),
      markScope(
        { ...env, GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/weekly.yml@refs/heads/try' },
        inputs
      ),
      markScope({ ...env, GITHUB_JOB: 'other' }, inputs),
      markScope({ ...env, GITHUB_ACTION: 'second' }, inputs),
      markScope(
        { ...env, GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/daily.yml@refs/heads/main' },
        inputs
      ),
      markScope(env, { ...inputs, query: { ...query, query: 'categories:toys' } }),
      markScope(env, { ...inputs, field: 'dateAdded' }),
      markScope(env, { ...inputs, token: 'tok_another_account_0000' })
    ].map(scope => scope.name)
    expect(new Set(names).size).toBe(names.length)
  })

  it('never holds the token, nor a plain hash of it', async () => {
    const { createHash } = await import('node:crypto')
    const scope = markScope(env, inputs)
    const plain = createHash('sha256').update(TOKEN).digest('hex')
    for (const text of [scope.name, scope.queryHash]) {
      expect(text).not.toContain(TOKEN)
      expect(plain).not.toContain(text.replace('datafiniti-mark-', ''))
    }
    // The query hash is of the query inputs only: the same for another account's token.
    expect(markScope(env, { ...inputs, token: 'tok_other_0000000000' }).queryHash).toBe(
      scope.queryHash
    )
  })
})
