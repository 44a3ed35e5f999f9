import { Inputs } from '../domain/action-io.js'
import { FatalError, errorMessage } from '../support/errors.js'
import type { Logger } from '../support/log.js'
import { redact } from '../support/secrets.js'
import { artifactClash, type Artifacts } from './artifact.js'

/** The part of the artifact service that knows which names are taken on the run. */
type ArtifactNames = Pick<Artifacts, 'find' | 'remove'>

/**
 * Before any waiting or downloading: an artifact of this name already on the run would make the
 * upload fail at the very end, so without `overwrite` the run fails now. A service that cannot
 * list is no reason to stop: the upload still names a clash if there is one.
 */
export async function checkArtifactName(
  name: string,
  overwrite: boolean,
  artifacts: ArtifactNames,
  log: Logger
): Promise<void> {
  let id: number | undefined
  try {
    id = await artifacts.find(name)
  } catch (error) {
    log.warning(
      `Could not list this run's artifacts to check that the name '${name}' is free ` +
        `(${redact(errorMessage(error))}); going on.`
    )
    return
  }
  if (id === undefined) return
  if (!overwrite) throw new FatalError(artifactClash(name))
  log.info(
    `Artifact '${name}' (id ${id}) is already on this run; '${Inputs.Overwrite}: true': ` +
      `it is replaced once the new files are downloaded.`
  )
}

/** With `overwrite`, right before the upload: the old artifact goes only when a new one is ready. */
export async function replaceArtifact(
  name: string,
  artifacts: ArtifactNames,
  log: Logger
): Promise<void> {
  if ((await artifacts.find(name)) === undefined) return
  const id = await artifacts.remove(name)
  log.info(`Deleted the earlier artifact '${name}' (id ${id}) ('${Inputs.Overwrite}: true').`)
}
