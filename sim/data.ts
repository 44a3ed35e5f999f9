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
