import { createHash } from 'node:crypto'

/** A deterministic pseudo-random sequence (mulberry32), so every generated file can be checked. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['Acme', 'Main St', 'Springfield', 'Ünïcødé', "O'Brien", 'North', 'Suite 5', 'LLC']

function field(random: () => number): string {
  const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'x'
  switch (Math.floor(random() * 6)) {
    case 0:
      return `"${word}, ${Math.floor(random() * 1000)}"` // comma inside quotes
    case 1:
      return `"${word}\nline two\r\nline three"` // line breaks inside quotes
    case 2:
      return `"He said ""${word}"""` // escaped quotes
    case 3:
      return '' // empty field
    default:
      return word
  }
}

export interface GeneratedCsv {
  body: Buffer
  /** Data rows, without the header. */
  records: number
}

/**
 * CSV as Datafiniti writes it, with every awkward case RFC 4180 allows: quoted commas, quoted line
 * breaks (so a line count is wrong), doubled quotes and empty fields.
 */
export function awkwardCsv(records: number, seed = 1, lineBreak = '\n'): GeneratedCsv {
  const random = seeded(seed)
  const lines = ['id,name,address,city,notes']
  for (let i = 0; i < records; i++) {
    lines.push(
      [String(i + 1), field(random), field(random), field(random), field(random)].join(',')
    )
  }
  return { body: Buffer.from(lines.join(lineBreak) + lineBreak, 'utf8'), records }
}

/** Newline-delimited JSON, one object a line, as Datafiniti's JSON format. */
export function jsonLines(records: number, seed = 1): GeneratedCsv {
  const random = seeded(seed)
  const lines: string[] = []
  for (let i = 0; i < records; i++) {
    lines.push(JSON.stringify({ id: i + 1, name: field(random), nested: { note: field(random) } }))
  }
  return { body: Buffer.from(lines.join('\n') + '\n', 'utf8'), records }
}

/** A header line and a block of whole records, for repeatBody: large files with known counts. */
export function csvParts(
  records: number,
  seed = 1
): { header: Buffer; block: Buffer; records: number } {
  const { body } = awkwardCsv(records, seed)
  const newline = body.indexOf(0x0a)
  return { header: body.subarray(0, newline + 1), block: body.subarray(newline + 1), records }
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * Whether a view puts each record on one CSV row, the rule the simulator plays Datafiniti by: a view
 * whose name says `flat` or `basic` (e.g. `product_flat`, `business_basic`) joins a nested list into
 * one cell; any other view, and no view, gives a nested list's entries a row each.
 */
export function flattens(view: string | undefined): boolean {
  return /flat|basic/i.test(view ?? '')
}

export interface RecordRows extends GeneratedCsv {
  /** Data rows, without the header: more than `records` when records span several rows. */
  rows: number
}

/**
 * CSV of `records` records with a nested list (`categories`, 1 to 3 entries each): without a
 * flattening view each entry takes a row of its own, the record's other fields repeated on each,
 * so one record spans up to three rows; flattened, the entries share one quoted cell.
 */
export function recordsCsv(records: number, seed = 1, flat = false): RecordRows {
  const random = seeded(seed)
  const lines = ['id,name,categories']
  for (let i = 0; i < records; i++) {
    const name = field(random)
    const categories = Array.from(
      { length: 1 + Math.floor(random() * 3) },
      (_, k) => `category ${k + 1}`
    )
    if (flat) lines.push(`${i + 1},${name},"${categories.join(',')}"`)
    else for (const category of categories) lines.push(`${i + 1},${name},${category}`)
  }
  const body = Buffer.from(lines.join('\n') + '\n', 'utf8')
  return { body, records, rows: lines.length - 1 }
}
