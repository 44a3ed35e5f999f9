/** Transforms the file host sends bodies through: S3's per-connection pace, and scripted cuts and stalls. */
import { Transform } from 'node:stream'

/** Paces a stream to `bytesPerSecond`, like S3's per-connection throughput. */
export function throttle(bytesPerSecond: number): Transform {
  const start = Date.now()
  let sent = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const pieces: Buffer[] = []
      for (let i = 0; i < chunk.length; i += 64 * 1024)
        pieces.push(chunk.subarray(i, i + 64 * 1024))
      const pushNext = (): void => {
        const piece = pieces.shift()
        if (!piece) {
          callback()
          return
        }
        sent += piece.length
        this.push(piece)
        const due = start + (sent / bytesPerSecond) * 1000
        setTimeout(pushNext, Math.max(0, due - Date.now()))
      }
      pushNext()
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
