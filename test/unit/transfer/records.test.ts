import { describe, expect, it } from 'vitest'
import {
  csvCounter,
  csvEngine,
  formatOf,
  jsonLinesCounter,
  recordCounter,
  type RecordCounter
} from '../../../src/transfer/records.js'
import { awkwardCsv, jsonLines } from '../../../sim/data.js'

type Factory = () => RecordCounter

function countChunks(factory: Factory, chunks: readonly Buffer[]): number {
  const counter = factory()
  for (const chunk of chunks) counter.push(chunk)
  return counter.total()
}

function countWhole(factory: Factory, body: Buffer): number {
  return countChunks(factory, [body])
}

/** Every way of cutting the body in two, plus three-way cuts around every position. */
function expectSameAtEverySplit(factory: Factory, body: Buffer, expected: number): void {
  expect(countWhole(factory, body)).toBe(expected)
  for (let cut = 0; cut <= body.length; cut++) {
    const total = countChunks(factory, [body.subarray(0, cut), body.subarray(cut)])
    if (total !== expected) {
      throw new Error(
        `split at byte ${cut} of ${JSON.stringify(body.toString('latin1'))} gave ${total}, expected ${expected}`
      )
    }
  }
  for (let cut = 0; cut + 1 <= body.length; cut++) {
    const total = countChunks(factory, [
      body.subarray(0, cut),
      body.subarray(cut, cut + 1),
      body.subarray(cut + 1)
    ])
    if (total !== expected) {
      throw new Error(`three-way split around byte ${cut} gave ${total}, expected ${expected}`)
    }
  }
}

function bytewise(body: Buffer): Buffer[] {
  const chunks: Buffer[] = []
  for (let i = 0; i < body.length; i++) chunks.push(body.subarray(i, i + 1))
  return chunks
}

function expectSameBytewise(factory: Factory, body: Buffer, expected: number): void {
  expect(countChunks(factory, bytewise(body))).toBe(expected)
}

/** Two tests per [name, text, records] case: cut in every way, and fed one byte at a time. */
function itCountsEveryCase(factory: Factory, cases: [string, string, number][]): void {
  it.each(cases)('%s: counts the same at every split', (_name, text, expected) => {
    expectSameAtEverySplit(factory, Buffer.from(text, 'utf8'), expected)
  })

  it.each(cases)('%s: counts the same one byte at a time', (_name, text, expected) => {
    expectSameBytewise(factory, Buffer.from(text, 'utf8'), expected)
  })
}

/** xorshift32: the same pseudo-random numbers on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state
  }
}

/** Chunks of pseudo-random sizes, including empty ones. */
function randomChunks(body: Buffer, seed: number): Buffer[] {
  const next = random(seed)
  const chunks: Buffer[] = []
  let pos = 0
  while (pos < body.length) {
    const size = next() % 40
    chunks.push(body.subarray(pos, pos + size))
    pos += size
  }
  return chunks
}

const csvCases: [string, string, number][] = [
  ['empty file', '', 0],
  ['header only with newline', 'id,name\n', 0],
  ['header only without newline', 'id,name', 0],
  ['header only with CRLF', 'id,name\r\n', 0],
  ['one row', 'id,name\n1,a\n', 1],
  ['two rows', 'id,name\n1,a\n2,b\n', 2],
  ['no trailing newline', 'id,name\n1,a\n2,b', 2],
  ['CRLF line endings', 'id,name\r\n1,a\r\n2,b\r\n', 2],
  ['CRLF without a trailing line break', 'id,name\r\n1,a\r\n2,b', 2],
  ['quoted newline', 'id,name\n1,"a\nb"\n2,c\n', 2],
  ['quoted CRLF', 'id,name\r\n1,"a\r\nb\r\nc"\r\n2,d\r\n', 2],
  ['escaped quotes', 'id,name\n1,"He said ""hi"""\n2,"""quoted"""\n', 2],
  ['escaped quotes next to a newline', 'id,name\n1,"""\n"""\n2,x\n', 2],
  ['commas in quotes', 'id,name\n1,"a, b, c"\n2,"x,y"\n', 2],
  ['blank lines ignored', 'id,name\n\n1,a\n\n\n2,b\n\n', 2],
  ['blank CRLF lines ignored', 'id,name\r\n\r\n1,a\r\n\r\n2,b\r\n\r\n', 2],
  ['leading blank line', '\nid,name\n1,a\n', 1],
  ['empty fields', 'a,b,c\n,,\n,,\n', 2],
  ['quoted empty field', 'a\n""\n""\n', 2],
  ['only a quoted line break in a field', 'a\n"\n"\n', 1],
  ['quoted field with a lone CR', 'a\n"x\ry"\n', 1],
  ['unicode', 'name\nÜnïcødé\n日本語\n', 2],
  ['last row quoted, no newline', 'a,b\n1,"x\ny"', 1],
  ['trailing spaces make a record', 'a\n \n', 1]
]

describe.each(['simd', 'table'] as const)('csvCounter, %s engine', engine => {
  const csv: Factory = () => csvCounter(engine)

  itCountsEveryCase(csv, csvCases)

  it('counts a trailing CRLF split between chunks once', () => {
    const counter = csv()
    counter.push(Buffer.from('id,name\r\n1,a\r'))
    expect(counter.total()).toBe(1)
    counter.push(Buffer.from('\n'))
    expect(counter.total()).toBe(1)
    counter.push(Buffer.from('2,b\r'))
    counter.push(Buffer.from('\n\r'))
    counter.push(Buffer.from('\n'))
    expect(counter.total()).toBe(2)
  })

  it('reports a running total while chunks arrive', () => {
    const counter = csv()
    expect(counter.total()).toBe(0)
    counter.push(Buffer.from('id,name\n'))
    expect(counter.total()).toBe(0)
    counter.push(Buffer.from('1,"open'))
    expect(counter.total()).toBe(1)
    counter.push(Buffer.from('\nstill open"\n2'))
    expect(counter.total()).toBe(2)
  })

  it('ignores empty chunks', () => {
    expect(
      countChunks(csv, [
        Buffer.alloc(0),
        Buffer.from('a\n1\n'),
        Buffer.alloc(0),
        Buffer.from('2'),
        Buffer.alloc(0)
      ])
    ).toBe(2)
  })

  it('does not count line breaks inside a quoted field as records', () => {
    // A naive line count would say 5.
    expect(countWhole(csv, Buffer.from('h\n"1\n2\n3"\nx\n'))).toBe(2)
  })

  describe.each(['\n', '\r\n'])('with awkwardCsv and line break %j', lineBreak => {
    it.each([1, 2, 3, 7, 42, 1234])('matches the generator for seed %i', seed => {
      const { body, records } = awkwardCsv(60, seed, lineBreak)
      expect(countWhole(csv, body)).toBe(records)
      expectSameBytewise(csv, body, records)
      for (const chunkSeed of [1, 2, 3]) {
        expect(countChunks(csv, randomChunks(body, seed * 31 + chunkSeed))).toBe(records)
      }
    })

    it('matches at every split for a small generated file', () => {
      const { body, records } = awkwardCsv(8, 5, lineBreak)
      expectSameAtEverySplit(csv, body, records)
    })

    it('matches without the final line break', () => {
      const { body, records } = awkwardCsv(25, 9, lineBreak)
      const trimmed = body.subarray(0, body.length - lineBreak.length)
      expect(countWhole(csv, trimmed)).toBe(records)
      expectSameBytewise(csv, trimmed, records)
    })

    it('counts zero for zero generated rows', () => {
      const { body, records } = awkwardCsv(0, 1, lineBreak)
      expect(records).toBe(0)
      expectSameAtEverySplit(csv, body, 0)
    })
  })

  it('generated CSV really contains the awkward cases', () => {
    const text = awkwardCsv(60, 1).body.toString('utf8')
    expect(text).toContain('""')
    expect(text).toMatch(/"[^"]*\n[^"]*"/)
    expect(text.split('\n').length - 2).toBeGreaterThan(60)
  })
})

describe('csvCounter engines', () => {
  it('uses WebAssembly SIMD on this Node', () => {
    expect(csvEngine()).toBe('simd')
  })

  it('agree with the byte-at-a-time scanner on 4,000 random texts, cut at random', () => {
    // Few distinct bytes, so that quotes, CR runs, blank lines and 64-byte block edges all meet.
    const alphabets = ['"\n\r', '"\n\r,a', '"\na', '\r\n', 'a"\n']
    const next = random(2024)
    for (let t = 0; t < 4000; t++) {
      const alphabet = alphabets[t % alphabets.length] as string
      const body = Buffer.alloc(next() % 700)
      for (let i = 0; i < body.length; i++) body[i] = alphabet.charCodeAt(next() % alphabet.length)
      const chunks: Buffer[] = []
      for (let pos = 0; pos < body.length;) {
        const size = t % 4 === 0 ? body.length : 1 + (next() % 200)
        chunks.push(body.subarray(pos, pos + size))
        pos += size
      }
      const expected = countChunks(() => csvCounter('table'), bytewise(body))
      const simd = countChunks(() => csvCounter('simd'), chunks)
      if (simd !== expected) {
        throw new Error(
          `${JSON.stringify(body.toString('latin1'))}: simd ${simd}, expected ${expected}`
        )
      }
    }
  })

  it('agree on chunks larger than the WebAssembly window, at odd offsets', () => {
    const { body, records } = awkwardCsv(12_000, 11, '\r\n')
    expect(body.length).toBeGreaterThan(600 * 1024)
    const odd = Buffer.concat([Buffer.from('x'), body]).subarray(1)
    for (const factory of [() => csvCounter('simd'), () => csvCounter('table')]) {
      expect(countWhole(factory, odd)).toBe(records)
      expect(countChunks(factory, [odd.subarray(0, 333_333), odd.subarray(333_333)])).toBe(records)
    }
  })
})

const jsonCases: [string, string, number][] = [
  ['empty', '', 0],
  ['one line', '{"a":1}\n', 1],
  ['no trailing newline', '{"a":1}\n{"a":2}', 2],
  ['CRLF', '{"a":1}\r\n{"a":2}\r\n', 2],
  ['blank lines', '\n{"a":1}\n\n\r\n{"a":2}\n\n', 2],
  ['escaped newline inside a string stays one line', '{"a":"x\\ny"}\n', 1],
  ['only blank lines', '\n\n\r\n\n', 0],
  ['whitespace line counts as non-empty', ' \n', 1]
]

describe('jsonLinesCounter', () => {
  itCountsEveryCase(jsonLinesCounter, jsonCases)

  it('counts a trailing CRLF split between chunks once', () => {
    const counter = jsonLinesCounter()
    counter.push(Buffer.from('{"a":1}\r'))
    counter.push(Buffer.from('\n'))
    counter.push(Buffer.from('\r'))
    counter.push(Buffer.from('\n'))
    expect(counter.total()).toBe(1)
  })

  it.each([1, 2, 3, 99])('matches jsonLines for seed %i with LF and CRLF', seed => {
    const { body, records } = jsonLines(50, seed)
    expect(countWhole(jsonLinesCounter, body)).toBe(records)
    expectSameBytewise(jsonLinesCounter, body, records)
    expect(countChunks(jsonLinesCounter, randomChunks(body, seed))).toBe(records)
    // JSON.stringify escapes line breaks in strings: every raw LF ends a record.
    const crlf = Buffer.from(body.toString('utf8').replace(/\n/g, '\r\n'), 'utf8')
    expect(countWhole(jsonLinesCounter, crlf)).toBe(records)
    expectSameBytewise(jsonLinesCounter, crlf, records)
    expect(countChunks(jsonLinesCounter, randomChunks(crlf, seed + 7))).toBe(records)
  })

  it('matches at every split for a small generated file', () => {
    const { body, records } = jsonLines(5, 3)
    expectSameAtEverySplit(jsonLinesCounter, body, records)
  })
})

describe('recordCounter', () => {
  it('picks the CSV counter (header not counted) or the JSON lines counter', () => {
    const body = Buffer.from('a\n1\n2\n')
    expect(countWhole(() => recordCounter('csv'), body)).toBe(2)
    expect(countWhole(() => recordCounter('json'), body)).toBe(3)
  })

  it('gives each call its own state', () => {
    const a = recordCounter('csv')
    const b = recordCounter('csv')
    a.push(Buffer.from('h\n1\n"open'))
    b.push(Buffer.from('h\n1\n'))
    expect(a.total()).toBe(2)
    expect(b.total()).toBe(1)
  })
})

describe('formatOf', () => {
  it.each([
    ['data.csv', undefined, 'csv'],
    ['data.CSV', 'json', 'csv'],
    ['data.json', undefined, 'json'],
    ['data.JSON', 'csv', 'json'],
    ['data.jsonl', undefined, 'json'],
    ['data.ndjson', 'csv', 'json'],
    ['6073_1.txt', undefined, 'json'],
    ['6073_1.txt', 'json', 'json'],
    ['6073_1.txt', 'csv', 'csv'],
    ['data.gz', 'csv', 'csv'],
    ['data.gz', 'json', 'json'],
    ['data.gz', undefined, undefined],
    ['data', 'csv', 'csv'],
    ['data', undefined, undefined],
    ['data.csv.zip', 'json', 'json'],
    ['archive.csv.gz', undefined, undefined],
    ['csv', undefined, undefined]
  ] as const)('%s with request format %s → %s', (name, requestFormat, expected) => {
    expect(formatOf(name, requestFormat)).toBe(expected)
  })
})
