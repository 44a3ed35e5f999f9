/** File contents for the file host: small ones from memory, huge ones generated as they are read. */
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import type { FileBody } from './types.js'

export function bufferBody(data: Buffer): FileBody {
  return {
    size: data.length,
    stream: (start, end) => Readable.from([data.subarray(start, end)]),
    md5: createHash('md5').update(data).digest('hex')
  }
}

/** `header` then `block` repeated: gigabytes of valid CSV without gigabytes of memory. */
export function repeatBody(header: Buffer, block: Buffer, times: number): FileBody {
  const size = header.length + block.length * times
  return {
    size,
    md5: undefined,
    stream(start, end) {
      let pos = start
      return new Readable({
        read() {
          if (pos >= end) {
            this.push(null)
            return
          }
          let chunk: Buffer
          if (pos < header.length) {
            chunk = header.subarray(pos, Math.min(end, header.length))
          } else {
            const offset = (pos - header.length) % block.length
            chunk = block.subarray(offset, Math.min(block.length, offset + (end - pos)))
          }
          pos += chunk.length
          this.push(chunk)
        }
      })
    }
  }
}
