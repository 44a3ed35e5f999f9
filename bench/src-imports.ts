/**
 * Everything bench/ takes from the action's sources, in one place: the names of its inputs and
 * outputs, the shape of its manifest, and the record counter that case 4 measures in-process. The
 * rest of the bench runs the built bundle and does not look inside it, so a new layout of src/
 * means changing only these lines.
 */
export { Inputs, Outputs, inputEnvName } from '../src/domain/action-io.js'
export { Defaults } from '../src/inputs/defaults.js'
export type { Manifest } from '../src/report/manifest.js'
export { csvCounter, csvEngine, type CsvEngine } from '../src/transfer/records.js'
