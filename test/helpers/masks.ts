import { expect } from 'vitest'
import { Outputs } from '../../src/domain/action-io.js'
import type { ActionRun } from '../../sim/runner.js'

/**
 * The values the run asked the runner to mask, in order, as the runner reads them: @actions/core
 * escapes `%`, CR and LF in a command's value (`%2B` is sent as `%252B`).
 */
export function maskedValues(run: ActionRun): string[] {
  return run.stdout
    .split('\n')
    .filter(line => line.startsWith('::add-mask::'))
    .map(line =>
      line
        .slice('::add-mask::'.length)
        .replace(/%0D/g, '\r')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
}

/** The signatures of the URLs in the run's `urls` output: each is a credential of its own. */
function signatures(run: ActionRun): string[] {
  const urls = JSON.parse(run.outputs[Outputs.Urls] ?? '[]') as string[]
  return urls.flatMap(url => {
    const signature = new URL(url).searchParams.get('X-Amz-Signature')
    return signature ? [signature] : []
  })
}

/**
 * Fails unless the run masked the token and its HTTP Basic form before it printed anything else,
 * and the signature of every URL it put in its `urls` output: without these `::add-mask::` lines a
 * later step, or the runner's own echo of an input, would show them.
 */
export function expectMasked(run: ActionRun, token: string): void {
  const masked = maskedValues(run)
  const basic = Buffer.from(`${token}:`).toString('base64')
  expect(masked).toContain(token)
  expect(masked).toContain(basic)
  const lines = run.stdout.split('\n')
  const firstOther = lines.findIndex(line => !line.startsWith('::add-mask::'))
  for (const secret of [token, basic]) {
    expect(lines.indexOf(`::add-mask::${secret}`), `${secret} masked first`).toBeLessThan(
      firstOther
    )
  }
  for (const signature of signatures(run)) expect(masked).toContain(signature)
}
