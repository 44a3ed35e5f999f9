/**
 * action.yml's defaults are what the runner passes when a workflow leaves an input out; the code
 * has its own for when an input is not set at all (outside a runner, or an older runner). The two
 * must be one.
 */
import { describe, expect, it } from 'vitest'
import { actionDefaults } from '../../../sim/runner.js'
import { Inputs, inputEnvName } from '../../../src/domain/action-io.js'
import { Defaults } from '../../../src/inputs/defaults.js'
import { parseSettings } from '../../../src/inputs/settings.js'

const declared = actionDefaults()

describe("action.yml's defaults and the code's", () => {
  it('every default of the code is the default action.yml declares for that input', () => {
    for (const [key, value] of Object.entries(Defaults)) {
      const input = Inputs[key as keyof typeof Inputs] as string | undefined
      expect(input, `Defaults.${key} names no input`).toBeDefined()
      expect(declared[input ?? ''], `input '${input ?? ''}'`).toBe(String(value))
    }
  })

  it('every input action.yml gives a default has that default in the code', () => {
    const inCode = new Map(
      Object.entries(Defaults).map(([key, value]) => [
        Inputs[key as keyof typeof Inputs] as string,
        String(value)
      ])
    )
    for (const [input, value] of Object.entries(declared)) {
      // An expression (`${{ github.token }}`) is the runner's to evaluate: the code has no copy.
      if (value !== '' && !value.startsWith('${{'))
        expect(inCode.get(input), `input '${input}'`).toBe(value)
    }
  })

  it.each([
    ['a request id', { [Inputs.RequestId]: '6073' }],
    [
      'a query',
      { [Inputs.Query]: 'country:US', [Inputs.DataType]: 'properties', [Inputs.NumRecords]: '10' }
    ],
    ['API v4', { [Inputs.ApiVersion]: 'v4', [Inputs.RequestId]: 'abc-1' }]
  ])('with %s, the runner passing every default is the same as passing none', (_label, given) => {
    const env = (inputs: Record<string, string>): Record<string, string> =>
      Object.fromEntries(
        Object.entries({ [Inputs.Token]: 'tok_defaults', ...inputs }).map(([name, value]) => [
          inputEnvName(name),
          value
        ])
      )
    const unset = parseSettings({ ...env(given), GITHUB_WORKSPACE: '/ws' }, '/cwd')
    const asRunner = parseSettings(
      {
        ...env({ ...declared, [Inputs.Token]: 'tok_defaults', ...given }),
        GITHUB_WORKSPACE: '/ws'
      },
      '/cwd'
    )
    expect(asRunner).toEqual(unset)
  })
})
