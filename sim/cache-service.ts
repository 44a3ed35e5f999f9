/**
 * The Actions cache service v2 as @actions/cache calls it (twirp `CacheService` on the Results
 * service: CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL), storing the
 * archives as blobs in the artifact backend's Azurite. Entries are scoped to the repository, as on
 * GitHub for one branch: every run and attempt sees what any other saved.
 */
export const CACHE_SERVICE = '/twirp/github.actions.results.api.v1.CacheService'

export interface CacheEntry {
  id: number
  key: string
  version: string
  blobName: string
  size: number
  finalized: boolean
}

export type Reply = (status: number, body: object) => void

/** Azurite SAS URLs for a blob: `cw` to upload, `r` to download. */
export type SignBlob = (blobName: string, permissions: 'cw' | 'r') => string

export function createCacheService(sign: SignBlob) {
  const entries: CacheEntry[] = []
  let nextId = 1
  const state = { entries, requests: [] as string[] }

  const handle = (method: string, body: Record<string, unknown>, reply: Reply): void => {
    const key = typeof body['key'] === 'string' ? body['key'] : ''
    const version = typeof body['version'] === 'string' ? body['version'] : ''
    state.requests.push(`${method} ${key}`)
    if (method === 'CreateCacheEntry') {
      if (entries.some(entry => entry.key === key && entry.version === version)) {
        // What the service answers to a second writer of the same key and version.
        reply(409, {
          code: 'already_exists',
          msg: 'cache entry with the same key, version, and scope already exists'
        })
        return
      }
      const blobName = `caches/${nextId}-${key}`
      entries.push({ id: nextId++, key, version, blobName, size: 0, finalized: false })
      reply(200, { ok: true, signed_upload_url: sign(blobName, 'cw') })
      return
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const entry = entries.find(e => e.key === key && e.version === version && !e.finalized)
      if (!entry) {
        reply(404, { code: 'not_found', msg: 'cache entry not found' })
        return
      }
      entry.finalized = true
      entry.size = Number(body['size_bytes'] ?? 0)
      reply(200, { ok: true, entry_id: String(entry.id) })
      return
    }
    if (method === 'GetCacheEntryDownloadURL') {
      const restoreKeys = Array.isArray(body['restore_keys'])
        ? (body['restore_keys'] as string[])
        : []
      const ready = entries.filter(e => e.finalized && e.version === version).reverse()
      // The key matches exactly first, then as a prefix; then each restore key as a prefix.
      const match =
        ready.find(e => e.key === key) ??
        [key, ...restoreKeys].flatMap(prefix => ready.filter(e => e.key.startsWith(prefix)))[0]
      if (!match) {
        reply(200, { ok: false, signed_download_url: '', matched_key: '' })
        return
      }
      reply(200, {
        ok: true,
        signed_download_url: sign(match.blobName, 'r'),
        matched_key: match.key
      })
      return
    }
    reply(404, { code: 'bad_route', msg: `no handler for CacheService/${method}` })
  }
  return { state, handle }
}
