import * as path from 'node:path'
import { artifactNameFor } from '../../../src/deliver/artifact-target.js'
import { describe, expect, it } from 'vitest'
import { shardOf } from '../../../src/domain/model.js'
import { Inputs, inputEnvName } from '../../../src/domain/action-io.js'
import { InputError } from '../../../src/inputs/read.js'
import { downloadPathFor, parseSettings } from '../../../src/inputs/settings.js'
import { manifestName } from '../../../src/report/manifest.js'
import { thrown } from '../../helpers/errors.js'

const WORKSPACE = path.resolve('/home/runner/work/repo')

function parse(inputs: Record<string, string>) {
  const env: Record<string, string> = { GITHUB_WORKSPACE: WORKSPACE }
  const all = { [Inputs.Token]: 'Tok3nSecretValue9', ...inputs }
  for (const [name, value] of Object.entries(all)) env[inputEnvName(name)] = value
  return parseSettings(env, '/elsewhere')
}

const withId = (shard: string) => ({ [Inputs.RequestId]: '6073', [Inputs.Shard]: shard })

describe('shard input', () => {
  it('is K/N, spaces allowed; empty is every file', () => {
    expect(parse(withId('2/8')).shard).toEqual({ index: 2, count: 8 })
    expect(parse(withId(' 3 / 3 ')).shard).toEqual({ index: 3, count: 3 })
    expect(parse(withId('1/1')).shard).toEqual({ index: 1, count: 1 })
    expect(parse(withId('256/256')).shard).toEqual({ index: 256, count: 256 })
    expect(parse(withId('')).shard).toBeUndefined()
  })

  it.each([
    '0/3',
    '4/3',
    '1/0',
    'x/y',
    '257/300',
    '1/257',
    '2',
    '1/2/3',
    '-1/3',
    '1.5/3',
    '1 of 3'
  ])('%s is an input error naming the input and the form K/N', raw => {
    const error = thrown(() => parse(withId(raw)))
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toBe(
      `Input 'shard' must be K/N: this job's shard K of N shards, whole numbers with ` +
        `1 ≤ K ≤ N ≤ 256 (for example 2/8); got ${JSON.stringify(raw.trim())}.`
    )
  })

  it('with query is an input error: only one job may create the download', () => {
    const error = thrown(() =>
      parse({
        [Inputs.Query]: 'country:US',
        [Inputs.DataType]: 'products',
        [Inputs.NumRecords]: '10',
        [Inputs.Shard]: '1/3'
      })
    )
    expect(error).toBeInstanceOf(InputError)
    expect(error.message).toMatch(
      /^Input 'shard' cannot be used with 'query': every shard would create, and pay for, a download of its own\. Create the download in one job and give its 'request-id' output to the shards/
    )
  })

  it('gives the default artifact name a suffix per shard; the default path and a given name stay', () => {
    const sharded = parse(withId('2/8'))
    expect(artifactNameFor(sharded, '6073')).toBe('datafiniti-6073-shard-2-of-8')
    expect(downloadPathFor(sharded, '6073')).toBe(path.join(WORKSPACE, 'datafiniti', '6073'))
    expect(artifactNameFor(parse(withId('')), '6073')).toBe('datafiniti-6073')
    const named = parse({ ...withId('2/8'), [Inputs.ArtifactName]: 'part-2' })
    expect(artifactNameFor(named, '6073')).toBe('part-2')
  })

  it("names each shard's manifest apart, so that merged artifacts keep them all", () => {
    expect(manifestName(null)).toBe('datafiniti-manifest.json')
    expect(manifestName({ index: 2, count: 8, totalFiles: 40 })).toBe(
      'datafiniti-manifest-shard-2-of-8.json'
    )
  })
})

describe('shardOf', () => {
  const files = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']

  it('takes the positions i with i mod N = K - 1, in order', () => {
    expect(shardOf(files, { index: 1, count: 3 })).toEqual(['f0', 'f3', 'f6'])
    expect(shardOf(files, { index: 2, count: 3 })).toEqual(['f1', 'f4'])
    expect(shardOf(files, { index: 3, count: 3 })).toEqual(['f2', 'f5'])
    expect(shardOf(files, undefined)).toEqual(files)
  })

  it('splits any list into disjoint shards that together are the list', () => {
    for (let count = 1; count <= 9; count++) {
      const shards = Array.from({ length: count }, (_, k) =>
        shardOf(files, { index: k + 1, count })
      )
      expect(shards.flat().sort()).toEqual(files)
    }
    expect(shardOf(files, { index: 8, count: 8 })).toEqual([])
  })
})
