import * as core from '@actions/core'

/** Where modules write their log lines; tests pass a plain object that records them. */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export const coreLogger: Logger = {
  info: message => core.info(message),
  warning: message => core.warning(message),
  debug: message => core.debug(message)
}
