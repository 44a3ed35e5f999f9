/** Types of sim/loopback-only.js (plain JavaScript: it is loaded into the action's process). */
export interface NetRecordEntry {
  lookup?: string
  address?: string
  refusedConnect?: string
  host?: string
}

export function isLoopbackAddress(address: string): boolean

export function installLoopbackOnly(options?: {
  hosts?: Record<string, string>
  record?: (entry: NetRecordEntry) => void
}): () => void
