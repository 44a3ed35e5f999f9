/**
 * Text the action does not control (API answers, URLs, file names, host explanations) on its way
 * into a log line, an annotation or a job summary cell.
 *
 * `core.info` prints a line as it is, and the runner reads every stdout line for workflow
 * commands: `::name::…` at the start of a line (after spaces) and `##[name]…` anywhere in it. A
 * line break from a server would start a new line, and with it a command of the server's choosing
 * (`::stop-commands::` would even switch off the masking of every later secret).
 */

// C0 and C1 controls (line breaks among them), the Unicode line and paragraph separators, and the
// bidirectional overrides that make a log line read differently from what it holds.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g

/** Breaks up `##[`, the old command form, which the runner finds anywhere in a line. */
export function withoutOldCommands(text: string): string {
  return text.replace(/#(?=#\[)/g, '# ')
}

/**
 * One line of text from outside, safe anywhere in a log line, an annotation or a Markdown cell: its
 * control characters and line breaks become a space, and no `::` or `##[` is left to start a
 * workflow command wherever the text lands in the line.
 */
export function safeText(text: string): string {
  return withoutOldCommands(text.replace(UNPRINTABLE, ' ').replace(/:(?=:)/g, ': '))
}

/**
 * A whole log line the action prints raw: one line, not a workflow command. The action's own lines
 * never are; this is the last guard for any text from outside that reached one unsanitised.
 */
export function safeLine(line: string): string {
  const flat = withoutOldCommands(line.replace(UNPRINTABLE, ' '))
  return flat.replace(/^(\s*):(?=:)/, '$1: ')
}
