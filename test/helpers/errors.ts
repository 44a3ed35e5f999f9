import { expect } from 'vitest'
import { HttpStatusError } from '../../src/support/errors.js'

/** What a promise rejected with, failing the test when it resolves or rejects with a non-Error. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(Error)
    return error as Error
  }
  throw new Error('expected a rejection')
}

/** What `fn` threw, failing the test when it returns or throws a non-Error. */
export function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(Error)
    return error as Error
  }
  throw new Error('expected a throw')
}

/** The error as an HttpStatusError, failing the test when it is another kind. */
export function httpError(error: unknown): HttpStatusError {
  if (!(error instanceof HttpStatusError))
    throw new Error(`expected an HttpStatusError, got ${String(error)}`)
  return error
}
