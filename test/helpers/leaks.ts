import { expect } from 'vitest'

/**
 * Fails when `text` holds any of `needles`: a string anywhere in it, or a match of a pattern. One
 * assertion per needle, so that a failure names the one that leaked.
 */
export function expectFreeOf(text: string, needles: readonly (string | RegExp)[]): void {
  for (const needle of needles) {
    if (typeof needle === 'string') expect(text).not.toContain(needle)
    else expect(text).not.toMatch(needle)
  }
}
