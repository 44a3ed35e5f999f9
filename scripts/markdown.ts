/**
 * What the docs checks read in a markdown file: its fenced code blocks, its headings' anchors
 * (as GitHub makes them) and its links. A small reader for this repository's own markdown, not a
 * CommonMark parser.
 */

export interface CodeBlock {
  /** The info string's first word (`yaml`, `sh`, …), lower-cased. */
  lang: string
  /** The whole info string, e.g. `yaml fragment`. */
  info: string
  text: string
  /** 1-based line of the block's first line of content. */
  line: number
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*(.*)$/

export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '')
    if (!open) continue
    const fence = open[1] ?? '```'
    const info = (open[2] ?? '').trim()
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j] ?? '')
      if (
        close &&
        close[1]?.[0] === fence[0] &&
        (close[1]?.length ?? 0) >= fence.length &&
        !close[2]
      )
        break
      body.push(lines[j] ?? '')
    }
    blocks.push({
      lang: (info.split(/\s+/)[0] ?? '').toLowerCase(),
      info,
      text: body.length > 0 ? `${body.join('\n')}\n` : '',
      line: i + 2
    })
    i = j
  }
  return blocks
}

/** The markdown with fenced code blocks and inline code spans blanked out (lines kept). */
export function withoutCode(markdown: string): string {
  return withoutCodeBlocks(markdown)
    .split('\n')
    .map(line => line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, ''))
    .join('\n')
}

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*]/g, '')
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** Every anchor the file's headings make, duplicates numbered as GitHub does (`-1`, `-2`). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const line of withoutCodeBlocks(markdown).split('\n')) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!heading) continue
    const base = slug(heading[1] ?? '')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

function withoutCodeBlocks(markdown: string): string {
  const lines = markdown.split('\n')
  let fence: string | undefined
  return lines
    .map(line => {
      const match = FENCE.exec(line)
      if (fence === undefined && match) {
        fence = match[1]
        return ''
      }
      if (fence !== undefined) {
        if (match && match[1]?.[0] === fence[0] && (match[1]?.length ?? 0) >= fence.length) {
          fence = undefined
        }
        return ''
      }
      return line
    })
    .join('\n')
}

export interface Link {
  target: string
  line: number
}

/** Inline links and images (`[text](target)`) and link definitions (`[id]: target`), outside code. */
export function links(markdown: string): Link[] {
  const found: Link[] = []
  withoutCode(markdown)
    .split('\n')
    .forEach((line, index) => {
      for (const match of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g))
        found.push({ target: match[1] ?? '', line: index + 1 })
      const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line)
      if (definition) found.push({ target: definition[1] ?? '', line: index + 1 })
      for (const match of line.matchAll(/<a\s[^>]*href="([^"]*)"/g))
        found.push({ target: match[1] ?? '', line: index + 1 })
    })
  return found
}
