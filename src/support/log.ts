/** Where modules write their log lines; tests pass a plain object that records them. */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}
