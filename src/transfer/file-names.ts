import { MANIFEST_NAME, isWindowsDeviceName } from '../domain/model.js'
import { withoutOldCommands } from '../support/text.js'

// Characters that are unsafe in a file name on some runner OS, or that artifacts refuse, and the
// controls, line separators and bidirectional overrides that would make a log line lie.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069"*:<>?|\\/]/g

const PART_SUFFIX = '.part'
/**
 * Most file systems take 255 bytes per name, and each file also owns `<name>.part` while it
 * downloads.
 */
const MAX_NAME_BYTES = 255 - PART_SUFFIX.length

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8')

/**
 * A safe local file name from a URL the action does not control: the decoded last path segment,
 * without separators, control characters, characters artifacts refuse, dot-only names, trailing
 * dots or spaces (Windows drops them, so `x.csv.` would be `x.csv`), Windows device names, or more
 * bytes than a name may have.
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
  let name = withoutOldCommands(base.replace(UNSAFE, '_'))
    .trim()
    .replace(/[. ]+$/, '')
  if (/^\.*$/.test(name)) name = ''
  return fitted(name === '' ? fallback : name, '')
}

/** `data.csv` → [`data`, `.csv`]; a leading dot is not an extension, nor is an overlong tail. */
function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.')
  if (dot <= 0 || bytes(name.slice(dot)) > 32) return [name, '']
  return [name.slice(0, dot), name.slice(dot)]
}

/**
 * `stem` + `tag` + `ext` within MAX_NAME_BYTES: the stem loses characters from its start, since
 * result files differ at their end (`6073_1.csv`, `6073_2.csv`); the extension and the tag stay. A
 * Windows device name gets a `_` in front.
 */
function fitted(name: string, tag: string): string {
  const [stem, ext] = splitExtension(name)
  const chars = Array.from(stem)
  for (let cut = 0; ; cut++) {
    const candidate = `${chars.slice(cut).join('').trimStart()}${tag}${ext}`
    const safe = isWindowsDeviceName(candidate) ? `_${candidate}` : candidate
    if (bytes(safe) <= MAX_NAME_BYTES || cut >= chars.length) return safe
  }
}

/**
 * How the runners' file systems compare names: case-insensitively (Windows, macOS) and, on macOS,
 * whatever the Unicode normalisation.
 */
const sameFile = (name: string): string => name.normalize('NFC').toUpperCase().toLowerCase()

/** Every manifest name, a shard's (`datafiniti-manifest-shard-2-of-8.json`) too, and their `.part`. */
const MANIFESTS = new RegExp(
  `^${MANIFEST_NAME.replace(/\.json$/, '').replace(/[.-]/g, '\\$&')}(-shard-\\d+-of-\\d+)?\\.json(\\.part)?$`
)

/**
 * Distinct names for every URL, also where case and normalisation do not count: a repeated name
 * gets `-2`, `-3`… before its extension. None is a manifest (a shard's too) or its `.part`, nor another file's
 * `.part`.
 */
export function assignFileNames(urls: readonly string[]): string[] {
  // The manifest is written beside the files, through its own `.part`.
  const taken = new Set<string>([sameFile(MANIFEST_NAME), sameFile(MANIFEST_NAME + PART_SUFFIX)])
  return urls.map((url, index) => {
    const wanted = fileNameFromUrl(url, `result-${index + 1}`)
    // Each file also owns `<name>.part` while it downloads: no other name may be that.
    const clash = (candidate: string): boolean =>
      taken.has(sameFile(candidate)) ||
      taken.has(sameFile(candidate + PART_SUFFIX)) ||
      MANIFESTS.test(sameFile(candidate))
    let name = wanted
    for (let n = 2; clash(name); n++) name = fitted(wanted, `-${n}`)
    taken.add(sameFile(name))
    taken.add(sameFile(name + PART_SUFFIX))
    return name
  })
}
