/**
 * The contenders of the cases, and how they take turns: every contender once per round, in the
 * same order, so that a slow patch of a shared machine hits all of them alike.
 */

/** Runs every contender once per round, in the same order each round: A,B,A,B,A,B. */
export async function alternate<K extends string>(
  rounds: number,
  contenders: readonly [K, () => Promise<number>][],
  hooks: {
    beforeRound?: (round: number) => Promise<void>
    onSample?: (key: K, round: number, value: number) => void
  } = {}
): Promise<Record<K, number[]>> {
  const samples = Object.fromEntries(contenders.map(([key]) => [key, [] as number[]])) as Record<
    K,
    number[]
  >
  for (let round = 0; round < rounds; round++) {
    await hooks.beforeRound?.(round)
    for (const [key, fn] of contenders) {
      const value = await fn()
      samples[key].push(value)
      hooks.onSample?.(key, round, value)
    }
  }
  return samples
}
