/** Transforms the file host sends bodies through: S3's per-connection pace, and scripted cuts and stalls. */
import { Transform } from 'node:stream'

/**
 * Paces a stream to `bytesPerSecond`, like S3's per-connection throughput. A piece that is due
 * goes at once: waiting for a timer per 64 KiB piece (at least 1 ms each) would hold a stream
 * below 64 MiB/s whatever the cap.
 */
export function throttle(bytesPerSecond: number): Transform {
  const start = performance.now()
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      let offset = 0
      const pushDue = (): void => {
        while (offset < chunk.length) {
          const piece = chunk.subarray(offset, offset + 64 * 1024)
          offset += piece.length
          sent += piece.length
          this.push(piece)
          const wait = start + (sent / bytesPerSecond) * 1000 - performance.now()
          if (wait > 0) {
            setTimeout(pushDue, wait)
            return
          }
        }
        callback()
      }
      pushDue()
    }
  })
}

export function cutAfter(limit: number, cut: () => void): Transform {
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (sent + chunk.length >= limit) {
        this.push(chunk.subarray(0, limit - sent))
        sent = limit
        setImmediate(cut)
        return
      }
      sent += chunk.length
      callback(null, chunk)
    }
  })
}

export function stallAfter(limit: number, ms: number): Transform {
  let sent = 0
  let stalled = false
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!stalled && sent + chunk.length >= limit) {
        stalled = true
        this.push(chunk.subarray(0, limit - sent))
        const rest = chunk.subarray(limit - sent)
        sent += chunk.length
        setTimeout(() => callback(null, rest), ms)
        return
      }
      sent += chunk.length
      callback(null, chunk)
    }
  })
}

/**
 * Flips every bit of the byte at `at`: the length stays right, the content does not. `onFlip` says
 * when the byte went out (a body cut short of it carried no corruption).
 */
export function flipByte(at: number, onFlip: () => void): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (at >= seen && at < seen + chunk.length) {
        const copy = Buffer.from(chunk)
        copy[at - seen] = (copy[at - seen] ?? 0) ^ 0xff
        chunk = copy
        onFlip()
      }
      seen += chunk.length
      callback(null, chunk)
    }
  })
}
