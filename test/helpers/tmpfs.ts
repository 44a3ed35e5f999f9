import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll } from 'vitest'

/** A real, small file system: the disk space an action run sees there is what the test gave it. */
export interface Tmpfs {
  readonly dir: string
  /** Gives the file system this many bytes in all (what is on it stays). */
  resize(bytes: number): void
}

/** Runs `mount` as root, or through sudo without a password (GitHub-hosted runners have it). */
function mount(args: string[]): void {
  try {
    execFileSync('mount', args, { stdio: 'pipe' })
  } catch (error) {
    if (process.getuid?.() === 0) throw error
    execFileSync('sudo', ['-n', 'mount', ...args], { stdio: 'pipe' })
  }
}

function unmount(dir: string): void {
  const args = ['-l', dir]
  try {
    execFileSync('umount', args, { stdio: 'pipe' })
  } catch {
    execFileSync('sudo', ['-n', 'umount', ...args], { stdio: 'pipe' })
  }
}

/**
 * Why this machine does not let the tests mount a tmpfs (they need root, or sudo without a
 * password), or undefined when it does: a test that skips says so, and why, in its name.
 */
export function tmpfsUnavailable(): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmpfs-probe-'))
  try {
    mount(['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir])
    unmount(dir)
    return undefined
  } catch (error) {
    const stderr = (error as { stderr?: Buffer | string }).stderr?.toString().trim()
    const detail = (stderr || (error as Error).message).split('\n')[0] ?? ''
    const who = process.getuid?.() === 0 ? 'root' : 'not root'
    return `cannot mount a tmpfs here (${who}; ${detail.slice(0, 160)})`
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A tmpfs of `bytes` mounted from the file's beforeAll to its afterAll, world-writable so that the
 * action may write there whoever runs it.
 */
export function useTmpfs(bytes: number): Tmpfs {
  let dir: string | undefined
  let mounted = false
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tmpfs-'))
    mount(['-t', 'tmpfs', '-o', `size=${bytes},mode=1777`, 'tmpfs', dir])
    mounted = true
  })
  afterAll(() => {
    if (dir === undefined) return
    if (mounted) unmount(dir)
    rmSync(dir, { recursive: true, force: true })
  })
  const mountPoint = (): string => {
    if (!mounted || dir === undefined)
      throw new Error('the tmpfs is mounted from beforeAll to afterAll only')
    return dir
  }
  return {
    get dir() {
      return mountPoint()
    },
    resize(size: number) {
      mount(['-o', `remount,size=${size}`, mountPoint()])
    }
  }
}
