/**
 * `npm run build:wasm` assembles src/transfer/csv-scan.wat into src/transfer/csv-scan-wasm.ts;
 * `npm run build:wasm -- --check` fails when the committed file differs (a unit test does the same).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { GENERATED, generatedSource } from './wasm-module.js'

const current = existsSync(GENERATED) ? readFileSync(GENERATED, 'utf8') : ''
const fresh = await generatedSource()
if (process.argv.includes('--check')) {
  if (fresh !== current) {
    console.error(`${GENERATED} differs from its source: run 'npm run build:wasm'.`)
    process.exitCode = 1
  }
} else if (fresh !== current) {
  writeFileSync(GENERATED, fresh)
  console.log(`${GENERATED} written`)
}
