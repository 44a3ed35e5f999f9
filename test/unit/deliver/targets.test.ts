import { describe, expect, it } from 'vitest'
import type { Artifacts } from '../../../src/deliver/artifact.js'
import type { DeliverySettings } from '../../../src/deliver/delivery.js'
import { deliveryFor } from '../../../src/deliver/targets.js'
import { Outputs } from '../../../src/domain/action-io.js'
import { Modes } from '../../../src/domain/model.js'
import { FatalError } from '../../../src/support/errors.js'
import type { Runner } from '../../../src/support/log.js'
import { recordingLog } from '../../helpers/log.js'

/** The delivery seam: each target alone, with plain objects for the artifact service and runner. */

const SETTINGS: DeliverySettings = {
  mode: 'artifact',
  artifactName: '',
  shard: undefined,
  overwrite: false,
  artifactFallback: 'fail',
  retentionDays: undefined,
  compressionLevel: 6
}

function world(options: { blocker?: string; taken?: string[] } = {}) {
  const calls: string[] = []
  const taken = new Set(options.taken ?? [])
  const artifacts: Artifacts = {
    blocker: () => options.blocker,
    find: name => {
      calls.push(`find ${name}`)
      return Promise.resolve(taken.has(name) ? 7 : undefined)
    },
    remove: name => {
      calls.push(`remove ${name}`)
      taken.delete(name)
      return Promise.resolve(7)
    },
    upload: (name, files, root) => {
      calls.push(`upload ${name} ${files.join(',')} from ${root}`)
      return Promise.resolve({ id: 42, size: 2048, digest: 'sha256:ab', url: 'https://gh/a/42' })
    }
  }
  const log = recordingLog()
  const runner: Runner = {
    ...log,
    group: (_name, fn) => fn(),
    setOutput: () => undefined,
    setSecret: () => undefined,
    summary: () => Promise.resolve()
  }
  return { calls, artifacts, runner, log }
}

const SHIPMENT = { requestId: '6073', paths: ['/d/a.csv', '/d/m.json'], root: '/d' }

describe('deliveryFor', () => {
  it('has a target for every mode, and only urls needs no download', () => {
    const { artifacts, runner } = world()
    const downloads = Modes.map(mode => [
      mode,
      deliveryFor({ ...SETTINGS, mode }, { artifacts, runner }).downloads
    ])
    expect(Object.fromEntries(downloads)).toEqual({ artifact: true, files: true, urls: false })
  })

  it.each(['files', 'urls'] as const)(
    '%s mode touches no artifact and hands back no receipt',
    async mode => {
      const { calls, artifacts, runner } = world({ blocker: 'no service' })
      const target = deliveryFor({ ...SETTINGS, mode }, { artifacts, runner })
      await target.beforeCreate(undefined)
      await target.beforeWait('6073')
      expect(await target.deliver(SHIPMENT)).toBeUndefined()
      expect(calls).toEqual([])
    }
  )
})

describe('the artifact target', () => {
  it('checks a default name once the request id is known, and only once', async () => {
    const { calls, artifacts, runner } = world()
    const target = deliveryFor(SETTINGS, { artifacts, runner })
    await target.beforeCreate(undefined)
    expect(calls).toEqual([])
    await target.beforeWait('6073')
    await target.beforeWait('6073')
    expect(calls).toEqual(['find datafiniti-6073'])
  })

  it('checks a given name, or a given request id, before anything is created', async () => {
    for (const [settings, id, name] of [
      [{ ...SETTINGS, artifactName: 'mine' }, undefined, 'mine'],
      [SETTINGS, '6073', 'datafiniti-6073']
    ] as const) {
      const { calls, artifacts, runner } = world()
      const target = deliveryFor(settings, { artifacts, runner })
      await target.beforeCreate(id)
      await target.beforeWait('6073')
      expect(calls).toEqual([`find ${name}`])
    }
  })

  it('fails before the wait when the name is taken, and replaces it at the end with overwrite', async () => {
    const taken = world({ taken: ['datafiniti-6073'] })
    const strict = deliveryFor(SETTINGS, taken)
    await expect(strict.beforeWait('6073')).rejects.toThrow(/overwrite: true/)

    const again = world({ taken: ['datafiniti-6073'] })
    const replacing = deliveryFor({ ...SETTINGS, overwrite: true }, again)
    await replacing.beforeWait('6073')
    await replacing.deliver(SHIPMENT)
    expect(again.calls).toEqual([
      'find datafiniti-6073',
      'find datafiniti-6073',
      'remove datafiniti-6073',
      'upload datafiniti-6073 /d/a.csv,/d/m.json from /d'
    ])
  })

  it('uploads the shipment and hands back a receipt with the artifact outputs', async () => {
    const { artifacts, runner } = world()
    const receipt = await deliveryFor(SETTINGS, { artifacts, runner }).deliver(SHIPMENT)
    expect(receipt).toEqual({
      kind: 'Artifact',
      name: 'datafiniti-6073',
      url: 'https://gh/a/42',
      details: 'id 42, 2.0 KiB zipped',
      outputs: {
        [Outputs.ArtifactName]: 'datafiniti-6073',
        [Outputs.ArtifactId]: '42',
        [Outputs.ArtifactUrl]: 'https://gh/a/42',
        [Outputs.ArtifactDigest]: 'sha256:ab'
      }
    })
  })

  it('fails at once without an artifact service, unless artifact-fallback keeps the files', async () => {
    const strict = world({ blocker: 'No artifact service here.' })
    await expect(deliveryFor(SETTINGS, strict).beforeCreate(undefined)).rejects.toThrow(FatalError)

    const lenient = world({ blocker: 'No artifact service here.' })
    const target = deliveryFor({ ...SETTINGS, artifactFallback: 'files' }, lenient)
    await target.beforeCreate(undefined)
    await target.beforeWait('6073')
    expect(await target.deliver(SHIPMENT)).toBeUndefined()
    expect(target.downloads).toBe(true)
    expect(lenient.calls).toEqual([])
    expect(lenient.log.warnings.join('\n')).toMatch(/artifact-fallback: files/)
  })
})
