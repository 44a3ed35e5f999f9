import { MANIFEST_NAME } from '../domain/download.js'

// Characters that are unsafe in a file name on some runner OS, or that artifacts refuse.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f"*:<>?|\\/]/g

/**
 * A safe local file name from a URL the action does not control: the decoded last path segment,
 * without separators, control characters, characters artifacts refuse, or dot-only names.
 */
export function fileNameFromUrl(url: string, fallback: string): string {
  let segment = ''
  try {
    const parts = new URL(url).pathname.split('/')
    segment = parts.at(-1) ?? ''
  } catch {
    // leave it empty: the fallback names it
  }
  let decoded: string
  try {
    decoded = decodeURIComponent(segment)
  } catch {
    decoded = segment
  }
  // A decoded `a%2F..%2Fb` must not become a path: keep only what follows the last separator.
  const base = decoded.split(/[/\\]/).at(-1) ?? ''
  let name = base.replace(UNSAFE, '_').trim()
  if (/^\.*$/.test(name)) name = ''
  if (name.length > 200) name = name.slice(name.length - 200)
  return name === '' ? fallback : name
}

/** Distinct names for every URL: a repeated name gets `-2`, `-3`… before its extension. */
export function assignFileNames(urls: readonly string[]): string[] {
  // The manifest is written beside the files.
  const taken = new Set<string>([MANIFEST_NAME.toLowerCase()])
  return urls.map((url, index) => {
    const wanted = fileNameFromUrl(url, `result-${index + 1}`)
    let name = wanted
    const dot = wanted.lastIndexOf('.')
    const stem = dot > 0 ? wanted.slice(0, dot) : wanted
    const ext = dot > 0 ? wanted.slice(dot) : ''
    // Each file also owns `<name>.part` while it downloads: no other name may be that.
    const clash = (candidate: string): boolean =>
      taken.has(candidate.toLowerCase()) || taken.has(`${candidate}.part`.toLowerCase())
    for (let n = 2; clash(name); n++) name = `${stem}-${n}${ext}`
    taken.add(name.toLowerCase())
    taken.add(`${name}.part`.toLowerCase())
    return name
  })
}
