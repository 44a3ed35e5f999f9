import { describe, expect, it } from 'vitest'
import { dayStart, dayText, windowedQuery } from '../../../src/api/windowed-query.js'
import type { QuerySpec } from '../../../src/domain/model.js'

const spec: QuerySpec = {
  query: 'categories:cosmetics OR categories:skincare',
  dataType: 'products',
  format: 'JSON',
  numRecords: 'all',
  view: undefined
}

describe('windowedQuery', () => {
  it('ANDs a day-granular range onto the query in parentheses, keeping its OR intact', () => {
    const from = new Date('2026-11-01T23:59:59.999Z')
    expect(windowedQuery(spec, 'dateUpdated', from)).toEqual({
      ...spec,
      query: '(categories:cosmetics OR categories:skincare) AND dateUpdated:[2026-11-01 TO *]'
    })
    expect(spec.query).toBe('categories:cosmetics OR categories:skincare')
  })

  it('rounds down to the start of the UTC day: the window overlaps, never leaves a gap', () => {
    expect(dayStart(new Date('2026-11-01T06:30:00+05:00')).toISOString()).toBe(
      '2026-11-01T00:00:00.000Z'
    )
    expect(dayText(new Date('2026-11-01T00:00:00.000Z'))).toBe('2026-11-01')
    expect(dayText(new Date('2026-10-31T23:59:59.999Z'))).toBe('2026-10-31')
  })
})
