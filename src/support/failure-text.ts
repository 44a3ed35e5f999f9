import { CreateAnswerError, DiskError, FatalError, errorMessage, isUnsent } from './errors.js'
import { redact } from './secrets.js'

/**
 * The one place where a failure becomes the words the user reads. Stages wrap what went wrong
 * with what it happened to (a file, the create call); `finalMessage` turns anything into the
 * run's last line.
 */

/** A file that could not be had: the cause keeps its own words, the file its name and host. */
export class FileFailure extends FatalError {
  override name = 'FileFailure'
  constructor(file: string, where: string, cause: unknown) {
    super(fileFailureText(file, where, cause), { cause })
  }
}

function fileFailureText(file: string, where: string, cause: unknown): string {
  if (cause instanceof DiskError) return `Could not save ${file} to disk: ${cause.message}`
  // Already worded for the user (a refused URL, a missing file, an earlier FileFailure).
  if (cause instanceof FatalError) return cause.message
  return `Could not download ${file} from ${where}: ${redact(errorMessage(cause))}`
}

/**
 * A create that failed without a clear answer from Datafiniti (a dropped connection, a timeout, an
 * answer without a usable id) may still have created, and charged for, a download.
 */
export function createFailure(error: unknown): unknown {
  if (error instanceof CreateAnswerError || isUnsent(error)) return error
  return new FatalError(
    `Creating the download failed (${redact(errorMessage(error))}), and the request may have reached ` +
      `Datafiniti: it may have created, and charged for, a download. It was not sent again; look for a ` +
      `new download in the Datafiniti portal before running again.`
  )
}

/** The run's failure line, with every secret removed whatever the error carried. */
export function finalMessage(error: unknown, secrets: readonly string[]): string {
  return redact(errorMessage(error), secrets)
}
