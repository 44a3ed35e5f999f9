import { expect } from 'vitest'
import { Inputs, inputEnvName } from '../../src/domain/action-io.js'
import { InputError } from '../../src/inputs/read.js'
import { thrown } from './errors.js'

/**
 * Inputs for a download created from a query: every record of `dataType` that `query` matches,
 * with `extra` inputs over them. The start of most tests of query inputs and of the pipeline.
 */
export function queryInputs(
  query: string,
  dataType: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    [Inputs.Query]: query,
    [Inputs.DataType]: dataType,
    [Inputs.NumRecords]: 'all',
    ...extra
  }
}

/** The environment a runner gives the action for `inputs`: an INPUT_ variable each, over `env`. */
export function inputEnv(
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {}
): Record<string, string | undefined> {
  const out = { ...env }
  for (const [name, value] of Object.entries(inputs)) out[inputEnvName(name)] = value
  return out
}

/** What `fn` threw, failing the test unless it is an InputError, named so in what the log shows. */
export function expectInputError(fn: () => unknown): InputError {
  const error = thrown(fn)
  expect(error).toBeInstanceOf(InputError)
  expect(error.name).toBe('InputError')
  if (!(error instanceof InputError)) throw error
  return error
}
