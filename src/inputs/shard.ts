import { MAX_SHARDS, type Shard } from '../domain/model.js'
import { Inputs } from '../domain/action-io.js'
import { InputError, quote } from './read.js'

/** `shard: K/N`, for a download split across matrix jobs; undefined when the input is empty. */
export function parseShard(raw: string, withQuery: boolean): Shard | undefined {
  if (raw === '') return undefined
  if (withQuery) {
    throw new InputError(
      `Input '${Inputs.Shard}' cannot be used with '${Inputs.Query}': every shard would create, and pay for, ` +
        `a download of its own. Create the download in one job and give its '${Inputs.RequestId}' output ` +
        `to the shards (docs/large-downloads.md).`
    )
  }
  const match = /^(\d{1,4})\s*\/\s*(\d{1,4})$/.exec(raw)
  const index = Number(match?.[1])
  const count = Number(match?.[2])
  if (!match || index < 1 || index > count || count > MAX_SHARDS) {
    throw new InputError(
      `Input '${Inputs.Shard}' must be K/N: this job's shard K of N shards, whole numbers with ` +
        `1 ≤ K ≤ N ≤ ${MAX_SHARDS} (for example 2/8); got ${quote(raw)}.`
    )
  }
  return { index, count }
}
