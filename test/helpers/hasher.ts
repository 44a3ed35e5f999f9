import { defaultHasher } from '../../src/transfer/digest-ring.js'

/**
 * One set of hashing threads for a test file, as a run has one: they stop by themselves when idle,
 * so a test file need not dispose of them.
 */
export const testHasher = defaultHasher()
