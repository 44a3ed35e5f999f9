/** Where modules write their log lines; tests pass a plain object that records them. */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

/** The workflow runner as the action sees it (@actions/core in production). */
export interface Runner extends Logger {
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  setOutput(name: string, value: string): void
  /** Masks a value in every later line of the job's log. */
  setSecret(secret: string): void
  /** Appends Markdown to the job summary; does nothing where there is none. */
  summary(markdown: string): Promise<void>
}
