/**
 * `npm run docs` rewrites the README's input and output tables from action.yml;
 * `npm run docs -- --check` fails when they differ (a unit test does the same).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { updateReadme } from './action-docs.js'

const readme = readFileSync('README.md', 'utf8')
const updated = await updateReadme(readme, readFileSync('action.yml', 'utf8'))
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error("README.md's input/output tables differ from action.yml: run 'npm run docs'.")
    process.exitCode = 1
  }
} else if (updated !== readme) {
  writeFileSync('README.md', updated)
  console.log('README.md tables updated from action.yml')
}
