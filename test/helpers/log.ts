import type { Logger } from '../../src/support/log.js'

type Level = keyof Logger

export interface RecordingLog extends Logger {
  /** The messages of the recorded levels, in order. */
  lines: string[]
  /** Every warning, whether or not `lines` records warnings. */
  warnings: string[]
}

/**
 * A logger that keeps what it is told. `levels` chooses what goes into `lines` (all three by
 * default); `tagged` prefixes each line with its level, for tests where the level is the point.
 */
export function recordingLog(
  options: { levels?: readonly Level[]; tagged?: boolean } = {}
): RecordingLog {
  const { levels = ['info', 'warning', 'debug'], tagged = false } = options
  const lines: string[] = []
  const warnings: string[] = []
  const record = (level: Level, message: string): void => {
    if (level === 'warning') warnings.push(message)
    if (levels.includes(level)) lines.push(tagged ? `${level}: ${message}` : message)
  }
  return {
    lines,
    warnings,
    info: message => record('info', message),
    warning: message => record('warning', message),
    debug: message => record('debug', message)
  }
}
