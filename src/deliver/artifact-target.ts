import { Outputs } from '../domain/action-io.js'
import { idForName, type Receipt } from '../domain/model.js'
import { FatalError } from '../support/errors.js'
import { formatBytes } from '../support/format.js'
import type { ArtifactResult } from './artifact.js'
import { checkArtifactName, replaceArtifact } from './clash.js'
import type { Delivery, DeliveryPorts, DeliverySettings } from './delivery.js'

/** The artifact's name: the `artifact-name` input, or one made from the request id. */
export function artifactNameFor(
  settings: Pick<DeliverySettings, 'artifactName' | 'shard'>,
  requestId: string
): string {
  if (settings.artifactName) return settings.artifactName
  // Each shard's own name, which `pattern: datafiniti-<id>-shard-*` gathers in a merge job.
  const suffix = settings.shard ? `-shard-${settings.shard.index}-of-${settings.shard.count}` : ''
  return `datafiniti-${idForName(requestId)}${suffix}`
}

/**
 * `mode: artifact`: the files and the manifest become one workflow artifact. What would make the
 * upload fail at the end (no artifact service, a name already taken) fails before anything is
 * created or waited for; with `artifact-fallback: files` a missing service keeps the files instead.
 */
export function artifactTarget(settings: DeliverySettings, ports: DeliveryPorts): Delivery {
  const { artifacts, runner } = ports
  let blocked = false
  let nameChecked = false
  const checkName = async (requestId: string | undefined): Promise<void> => {
    if (blocked || nameChecked) return
    // The default name holds the request id: it is checked once the id is known.
    if (requestId === undefined && !settings.artifactName) return
    nameChecked = true
    const name = artifactNameFor(settings, requestId ?? '')
    await checkArtifactName(name, settings.overwrite, artifacts, runner)
  }
  return {
    downloads: true,
    beforeCreate: async requestId => {
      const blocker = artifacts.blocker()
      if (blocker !== undefined) {
        if (settings.artifactFallback !== 'files') throw new FatalError(blocker)
        runner.warning(
          `${blocker} 'artifact-fallback: files' is set: the files will be downloaded and kept.`
        )
        blocked = true
      }
      await checkName(requestId)
    },
    beforeWait: checkName,
    deliver: async ({ requestId, paths, root }) => {
      if (blocked) return undefined
      const name = artifactNameFor(settings, requestId)
      const artifact = await runner.group(`Upload artifact ${name}`, async () => {
        if (settings.overwrite) await replaceArtifact(name, artifacts, runner)
        const uploaded = await artifacts.upload(name, paths, root, {
          retentionDays: settings.retentionDays,
          compressionLevel: settings.compressionLevel
        })
        runner.info(
          `Artifact ${name} uploaded: id ${uploaded.id}${uploaded.url ? `, ${uploaded.url}` : ''}`
        )
        return uploaded
      })
      return receiptOf(name, artifact)
    }
  }
}

/** The artifact as the outputs and the summary show it. */
export function receiptOf(name: string, artifact: ArtifactResult): Receipt {
  const size = artifact.size === undefined ? '' : `, ${formatBytes(artifact.size)} zipped`
  return {
    kind: 'Artifact',
    name,
    url: artifact.url,
    details: `id ${artifact.id}${size}`,
    outputs: {
      [Outputs.ArtifactName]: name,
      [Outputs.ArtifactId]: String(artifact.id),
      [Outputs.ArtifactUrl]: artifact.url ?? '',
      [Outputs.ArtifactDigest]: artifact.digest ?? ''
    }
  }
}
