import { statfs } from 'node:fs/promises'
import * as path from 'node:path'

/**
 * Bytes this process may still write on the file system that holds `dir`, or undefined when the
 * file system does not say. The download directory usually does not exist yet: the nearest
 * existing ancestor is on the file system it will be created on.
 */
export async function freeBytesAt(dir: string): Promise<number | undefined> {
  let at = path.resolve(dir)
  for (;;) {
    try {
      const fs = await statfs(at)
      // bavail, not bfree: blocks reserved for root are no use to a runner's user.
      return fs.bavail * fs.bsize
    } catch (error) {
      const parent = path.dirname(at)
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) return undefined
      at = parent
    }
  }
}
