/**
 * The test world's network guard, loaded into the action's process (`node --import`, see
 * `loopbackOnlyEnv` in sim/runner.ts) and usable in a test's own process: no socket may reach
 * anything but loopback, whatever the code under test does.
 *
 * - Host names in `hosts` (from DATAFINITI_SIM_HOSTS, JSON `{ name: address }`) resolve to the
 *   address given, as a hostile DNS answer would make them (`metadata.test` → 169.254.169.254);
 *   every other name but `localhost` fails to resolve, so no DNS query ever leaves the machine.
 * - Every lookup of a listed name is recorded, and so is every connection that would have left
 *   loopback, which is refused instead of made: a test asserts the first happened and the second
 *   never did. Records go to `record`, or as JSON lines to the DATAFINITI_SIM_NET_LOG file.
 *
 * Plain JavaScript: the action's process runs dist/index.js with plain node.
 */
import dns from 'node:dns'
import { appendFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import net from 'node:net'
import process from 'node:process'

/** 127.0.0.0/8, ::1 and their IPv4-mapped form. */
export function isLoopbackAddress(address) {
  const bare = String(address)
    .replace(/^\[|\]$/g, '')
    .replace(/^::ffff:/i, '')
  if (net.isIPv4(bare)) return bare.startsWith('127.')
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1'
}

const refuse = what =>
  Object.assign(new Error(`test world: ${what} would leave loopback: refused`), {
    code: 'ECONNREFUSED'
  })

/** Installs the guard; returns a function that removes it. */
export function installLoopbackOnly({ hosts = {}, record = () => undefined } = {}) {
  const originalLookup = dns.lookup
  const originalConnect = net.Socket.prototype.connect

  dns.lookup = function lookup(hostname, options, callback) {
    const cb = typeof options === 'function' ? options : callback
    const opts = typeof options === 'object' && options !== null ? options : {}
    const name = String(hostname).toLowerCase()
    const answer = (error, address) =>
      process.nextTick(() => {
        if (error) return cb(error)
        const family = net.isIP(address)
        if (opts.all) cb(null, [{ address, family }])
        else cb(null, address, family)
      })
    if (Object.hasOwn(hosts, name)) {
      record({ lookup: name, address: hosts[name] })
      return answer(null, hosts[name])
    }
    if (name === 'localhost' || net.isIP(name) !== 0) {
      return originalLookup.call(dns, hostname, options, callback)
    }
    return answer(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }))
  }
  syncBuiltinESMExports()

  net.Socket.prototype.connect = function connect(...args) {
    const first = args[0]
    const options = Array.isArray(first) ? first[0] : first
    if (options !== null && typeof options === 'object' && !options.path) {
      const host = options.host ?? 'localhost'
      if (net.isIP(host) !== 0 && !isLoopbackAddress(host)) {
        record({ refusedConnect: host })
        process.nextTick(() => this.destroy(refuse(host)))
        return this
      }
      // Whatever resolves the name (the code's own lookup or dns.lookup), its answer is checked
      // last, just before node would connect.
      const inner = options.lookup ?? dns.lookup
      options.lookup = (hostname, lookupOptions, callback) =>
        inner(hostname, lookupOptions, (error, address, family) => {
          if (error) return callback(error, address, family)
          const all = Array.isArray(address) ? address : [{ address }]
          const away = all.find(entry => !isLoopbackAddress(entry.address))
          if (away) {
            record({ refusedConnect: away.address, host: hostname })
            return callback(refuse(`${hostname} (${away.address})`))
          }
          callback(null, address, family)
        })
    } else if (typeof first === 'number' || typeof first === 'string') {
      const host = typeof args[1] === 'string' ? args[1] : 'localhost'
      if (net.isIP(host) !== 0 && !isLoopbackAddress(host)) {
        record({ refusedConnect: host })
        process.nextTick(() => this.destroy(refuse(host)))
        return this
      }
    }
    return originalConnect.apply(this, args)
  }

  return () => {
    dns.lookup = originalLookup
    net.Socket.prototype.connect = originalConnect
    syncBuiltinESMExports()
  }
}

const hostsFromEnv = process.env['DATAFINITI_SIM_HOSTS']
if (hostsFromEnv !== undefined) {
  const log = process.env['DATAFINITI_SIM_NET_LOG']
  installLoopbackOnly({
    hosts: JSON.parse(hostsFromEnv),
    record: entry => {
      if (log) appendFileSync(log, `${JSON.stringify(entry)}\n`)
    }
  })
}
