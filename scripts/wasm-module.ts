/**
 * src/transfer/csv-scan-wasm.ts, generated from src/transfer/csv-scan.wat: the WebAssembly binary as base64, so
 * that the bundle carries it without a loader and the text source stays the one to read and edit.
 */
import { readFileSync } from 'node:fs'
import wabt from 'wabt'

export const WAT = 'src/transfer/csv-scan.wat'
export const GENERATED = 'src/transfer/csv-scan-wasm.ts'

export async function generatedSource(wat = readFileSync(WAT, 'utf8')): Promise<string> {
  const toolkit = await wabt()
  const module = toolkit.parseWat(WAT, wat, { simd: true })
  try {
    module.validate()
    const { buffer } = module.toBinary({})
    const base64 = Buffer.from(buffer).toString('base64')
    return [
      `// Generated from ${WAT} by \`npm run build:wasm\`: edit that file, not this one.`,
      `export const CSV_SCAN_WASM =`,
      `  '${base64}'`,
      ''
    ].join('\n')
  } finally {
    module.destroy()
  }
}
