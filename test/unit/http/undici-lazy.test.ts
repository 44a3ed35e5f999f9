import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

/** Runs a CommonJS snippet in a fresh Node, where nothing has loaded undici yet. */
function node(code: string): unknown {
  return JSON.parse(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' }))
}

const loaded = `Object.keys(require.cache).some(k => k.includes('/node_modules/undici/'))`

describe('src/http/undici-lazy.cjs', () => {
  it('loads nothing until an export is used, not even for the interop flag', () => {
    expect(
      node(`const u = require('./src/http/undici-lazy.cjs'); u.__esModule;
        console.log(JSON.stringify(${loaded}))`)
    ).toBe(false)
  })

  it('then hands out the real undici exports', () => {
    expect(
      node(`const u = require('./src/http/undici-lazy.cjs');
        const real = require(require.resolve('undici', { paths: [require('path').resolve('node_modules/@actions/http-client')] }));
        console.log(JSON.stringify([${loaded}, u.ProxyAgent === real.ProxyAgent,
          u.fetch === real.fetch, 'Agent' in u, Object.keys(u).length === Object.keys(real).length]))`)
    ).toEqual([true, true, true, true, true])
  })

  it('stands for the only undici installed, so no importer can lose its own version', () => {
    // tsconfig "paths" sends every bundled `undici` import to node_modules/undici: a second,
    // nested copy for some package would be replaced without a word. This fails first.
    // Copies that only dev tools use (@github/local-action's own toolkit) never reach the bundle.
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
      packages: Record<string, { version?: string; dev?: boolean }>
    }
    const copies = Object.keys(lock.packages).filter(
      key => /(^|\/)node_modules\/undici$/.test(key) && lock.packages[key]?.dev !== true
    )
    expect(copies).toEqual(['node_modules/undici'])
  })
})
