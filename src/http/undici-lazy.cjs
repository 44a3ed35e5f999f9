'use strict'
/*
 * `undici` as the bundle sees it (tsconfig.json "paths", which ncc follows): the real module,
 * evaluated on first use rather than at start-up. The toolkit imports it only for proxy agents
 * and fetch, which files and urls modes never reach; evaluating it anyway cost ~40 ms of
 * start-up and ~6 MiB of memory (a run that stops at its inputs: 190 -> 150 ms, 54 -> 48 MiB).
 */
let undici
const load = () => (undici ??= require('../../node_modules/undici/index.js'))

module.exports = new Proxy(
  {},
  {
    get(_target, name) {
      // webpack's interop asks at start-up; undici is CommonJS and has no such flag.
      if (name === '__esModule') return undefined
      return load()[name]
    },
    has: (_target, name) => name in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_target, name) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), name)
      return descriptor && { ...descriptor, configurable: true }
    }
  }
)
