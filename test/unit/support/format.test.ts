import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../../src/support/format.js'

describe('parseDuration', () => {
  it.each([
    ['30', 30_000],
    ['0', 0],
    ['1.5', 1_500],
    ['200ms', 200],
    ['1.5s', 1_500],
    ['45s', 45_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1h30m15s', 5_415_000],
    ['1m500ms', 60_500],
    ['0.5h', 1_800_000],
    ['2H', 7_200_000],
    ['10M', 600_000],
    ['  10m  ', 600_000],
    ['1.0005s', 1_001]
  ])('parses %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each([
    '',
    '   ',
    'abc',
    '10x',
    '-1',
    '-5s',
    '1.5.5',
    '1.5.5s',
    's',
    'ms',
    '.5s',
    '1 h',
    '1h 30m',
    '1m30',
    '30s!',
    '1e3',
    '1,5s',
    '10d',
    '+10s'
  ])('rejects %j', text => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it('gives the same answer on repeated calls (no stale regex state)', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('10x')).toBeUndefined()
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('2h')).toBe(7_200_000)
  })
})

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [850, '850ms'],
    [999, '999ms'],
    [-5, '0ms'],
    [1_000, '1s'],
    [1_499, '1s'],
    [1_500, '2s'],
    [59_000, '59s'],
    [59_500, '1m'],
    [60_000, '1m'],
    [190_000, '3m10s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h'],
    [3_720_000, '1h2m'],
    [3_661_000, '1h1m'],
    [5_400_000, '1h30m'],
    [90_000_000, '25h']
  ])('formats %i ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })

  it('round-trips with parseDuration for whole values', () => {
    for (const ms of [1_000, 45_000, 600_000, 190_000, 3_600_000, 5_400_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms)
    }
  })

  // A fraction just under one second rounds up to a whole second.
  it('formats 999.6 ms as 1s rather than 1000ms', () => {
    expect(formatDuration(999.6)).toBe('1s')
  })
})
