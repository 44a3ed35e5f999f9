import { describe, expect, it } from 'vitest'
import { downloadState, bodyStart, errorText } from '../../../src/api/response.js'
import { fileStatusError } from '../../../src/transfer/file-host.js'
import { describeUrl } from '../../../src/support/secrets.js'
import { safeLine, safeText } from '../../../src/support/text.js'

/** As the runner reads a stdout line: a command at its start (after spaces), or `##[` anywhere. */
function isCommand(line: string): boolean {
  return /^\s*::/.test(line) || line.includes('##[')
}

/** Every line `text` would print as, as the runner splits them. */
const lines = (text: string): string[] => text.split(/\r\n|\r|\n/)

const HOSTILE = [
  'STARTED\n::warning::owned',
  'STARTED\r\n::stop-commands::abc',
  '::add-mask::COMPLETED',
  '  ::error::x',
  'a\u2028::warning::b',
  'a\u0085b',
  'x ##[add-mask]y',
  'COMPLETED\u001b[31m red',
  'left\u202eright',
  ':::::'
]

describe('safeText', () => {
  it.each(HOSTILE)('leaves one line that is no workflow command, wherever it lands: %j', text => {
    const safe = safeText(text)
    expect(lines(safe)).toHaveLength(1)
    // eslint-disable-next-line no-control-regex
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/)
    expect(safe).not.toContain('::')
    expect(safe).not.toContain('##[')
    for (const line of [safe, `x${safe}`, `${safe}: done`]) expect(isCommand(line)).toBe(false)
  })

  it('leaves ordinary text as it is', () => {
    for (const text of ['COMPLETED', 'Ünïcødé 6073_1.csv', 'a: b', 'https://h/x?y=1#z', '# [x]'])
      expect(safeText(text)).toBe(text)
  })

  it('is idempotent', () => {
    for (const text of HOSTILE) expect(safeText(safeText(text))).toBe(safeText(text))
  })
})

describe('safeLine', () => {
  it.each(HOSTILE)('makes a whole line harmless: %j', text => {
    const safe = safeLine(text)
    expect(lines(safe)).toHaveLength(1)
    expect(isCommand(safe)).toBe(false)
  })

  it("keeps a line's own colons, such as an IPv6 host", () => {
    expect(safeLine('Request 1 at [::1]:8080 (API v3)')).toBe('Request 1 at [::1]:8080 (API v3)')
  })
})

describe('API and URL text is sanitised where it enters a message', () => {
  it('a status and an error from the API', () => {
    const state = downloadState(
      { status: 'STARTED\n::warning::owned', error: 'bad\n::error::x' },
      { downloaded: 'd', requested: 'r', format: 'f' },
      new Set()
    )
    expect(state.status).toBe('STARTED : :warning: :owned')
    expect(isCommand(state.status)).toBe(false)
    expect(state.phase).toBe('failed')
    expect(lines(state.error)).toHaveLength(1)
    expect(errorText('x\n::add-mask::y')).not.toContain('::')
  })

  it('the start of a body', () => {
    expect(bodyStart('<html>\n::warning::x ##[add-mask]y', [])).toBe(
      '<html> : :warning: :x # #[add-mask]y'
    )
  })

  it('a file name decoded from a URL', () => {
    const shown = describeUrl('https://h.example/p/a%0A%3A%3Awarning%3A%3Ab.csv?X-Amz-Signature=s')
    expect(shown).toBe('h.example/…/a : :warning: :b.csv')
  })

  it("the file host's explanation", () => {
    const error = fileStatusError(
      { name: 'a.csv', url: 'https://h.example/a.csv' },
      404,
      '<Error><Code>NoSuchKey</Code><Message>gone\n::warning::x</Message></Error>',
      undefined,
      0
    )
    expect(lines(error.message)).toHaveLength(1)
    expect(error.message).not.toContain('::')
  })
})
