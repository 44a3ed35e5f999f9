import * as dns from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { FatalError } from '../support/errors.js'
import { describeUrl } from '../support/secrets.js'

/**
 * Where a file request may go. A result URL is a bearer credential and its answer becomes a result
 * file, so an on-path attacker who can redirect a request (or answer a DNS query) must not be able
 * to send it to a cloud metadata service or a host inside the runner's network.
 */

/** A file request refused for where it would go: no retry reaches another place. */
export class RefusedHostError extends FatalError {
  override name = 'RefusedHostError'
}

export type AddressKind = 'loopback' | 'private' | 'link-local' | 'unspecified' | 'public'

/** Which kinds of address a connection may reach; link-local and unspecified never. */
export interface AddressRule {
  private: boolean
  loopback: boolean
}

/** The first URL of a file request may be in a private network (a VPC endpoint of S3's). */
export const FIRST_HOP: AddressRule = { private: true, loopback: true }

/** node's `dns.lookup` signature: what the HTTP layer resolves names with (tests inject their own). */
export type Lookup = LookupFunction

/** dns.lookup, read when called so that a test's replacement of it is the one used. */
export const systemLookup: Lookup = (hostname, options, callback) =>
  dns.lookup(hostname, options, callback)

const WHY: Record<Exclude<AddressKind, 'public'>, string> = {
  loopback: 'a loopback address, which only a loopback host may redirect to',
  private: 'a private network address, which no redirect may reach',
  'link-local': 'a link-local address, where cloud metadata services answer',
  unspecified: 'an unspecified address'
}

function ipv4Kind(address: string): AddressKind {
  const [a = 0, b = 0] = address.split('.').map(Number)
  if (a === 127) return 'loopback'
  if (a === 0) return 'unspecified'
  if (a === 169 && b === 254) return 'link-local'
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private'
  // Carrier-grade NAT space: inside someone's network, never a public file host.
  if (a === 100 && b >= 64 && b <= 127) return 'private'
  return 'public'
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, '')
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map(group => parseInt(group, 16))
  const start = parse(head)
  const end = tail === undefined ? [] : parse(tail)
  return [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end]
}

/** What kind of address an IP literal is (IPv4, IPv6 and IPv4-mapped IPv6). */
export function addressKind(address: string): AddressKind {
  const family = isIP(address)
  if (family === 4) return ipv4Kind(address)
  if (family !== 6) return 'public'
  const groups = ipv6Groups(address)
  const [first = 0] = groups
  if (groups.slice(0, 5).every(group => group === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6)
    return ipv4Kind(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`)
  }
  if (groups.every(group => group === 0)) return 'unspecified'
  if (groups.slice(0, 7).every(group => group === 0) && groups[7] === 1) return 'loopback'
  if ((first & 0xffc0) === 0xfe80) return 'link-local'
  if ((first & 0xfe00) === 0xfc00) return 'private'
  return 'public'
}

/** Why a rule refuses an address, or undefined when it may be reached. */
export function refusal(address: string, rule: AddressRule): string | undefined {
  const kind = addressKind(address)
  if (kind === 'public') return undefined
  if (kind === 'loopback' && rule.loopback) return undefined
  if (kind === 'private' && rule.private) return undefined
  return WHY[kind]
}

/** A URL's host without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '')
}

/** localhost, 127.0.0.0/8 or ::1, by name: what may be asked over plain http (the `api-url` rule). */
export function isLoopbackHost(url: URL): boolean {
  const host = bareHost(url).toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  return isIP(host) !== 0 && addressKind(host) === 'loopback'
}

/**
 * Refuses, before any connection, a file URL that is not https (loopback excepted) and an IP
 * literal the rule refuses. `redirectedFrom` is the hop that sent us here, for the message.
 */
export function checkFileUrl(url: URL, rule: AddressRule, redirectedFrom?: URL): void {
  const where = redirectedFrom
    ? `${describeUrl(redirectedFrom.href)} redirected to ${describeUrl(url.href)}`
    : `The result URL ${describeUrl(url.href)}`
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url))) {
    throw new RefusedHostError(
      `${where}, over ${url.protocol.replace(/:$/, '')}: refused. Result files are fetched over https only ` +
        '(plain http only from a loopback host): a signed URL is a credential.'
    )
  }
  const host = bareHost(url)
  const why = isIP(host) !== 0 ? refusal(host, rule) : undefined
  if (why) throw new RefusedHostError(`${where}: refused: ${host} is ${why}.`)
}

/**
 * A lookup that checks every address a name resolves to before node connects to any: one refused
 * address refuses the name (an attacker's answer may mix them).
 */
export function guardedLookup(lookup: Lookup, rule: AddressRule): Lookup {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, found) => {
      if (error) return callback(error, '', 0)
      const addresses = (Array.isArray(found) ? found : [{ address: found, family: 4 }]) as {
        address: string
        family: number
      }[]
      for (const { address } of addresses) {
        const why = refusal(address, rule)
        if (why) {
          const refused = new RefusedHostError(`${hostname} resolves to ${address}, ${why}`)
          return callback(refused, '', 0)
        }
      }
      if (options.all) return (callback as (e: null, a: typeof addresses) => void)(null, addresses)
      const [first] = addresses
      if (!first)
        return callback(
          Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }),
          '',
          0
        )
      callback(null, first.address, first.family)
    })
  }
}
