import type { LookupAddress, LookupOptions } from 'node:dns'
import { describe, expect, it } from 'vitest'
import {
  RefusedHostError,
  addressKind,
  checkFileUrl,
  guardedLookup,
  isLoopbackHost,
  refusal,
  type Lookup
} from '../../../src/http/address.js'

const FIRST = { private: true, loopback: true }
const REDIRECT = { private: false, loopback: false }

describe('addressKind', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['172.15.0.1', 'public'],
    ['172.32.0.1', 'public'],
    ['52.216.0.1', 'public'],
    ['2600:1f18::1', 'public'],
    ['fec0::1', 'public']
  ])('%s is %s', (address, kind) => {
    expect(addressKind(address)).toBe(kind)
  })
})

describe('refusal', () => {
  it('refuses link-local and unspecified addresses under any rule', () => {
    for (const rule of [FIRST, REDIRECT]) {
      expect(refusal('169.254.169.254', rule)).toMatch(/link-local/)
      expect(refusal('0.0.0.0', rule)).toMatch(/unspecified/)
    }
  })

  it('takes private and loopback addresses only where the rule allows them', () => {
    expect(refusal('10.0.0.5', FIRST)).toBeUndefined()
    expect(refusal('10.0.0.5', REDIRECT)).toMatch(/private network/)
    expect(refusal('127.0.0.1', FIRST)).toBeUndefined()
    expect(refusal('127.0.0.1', REDIRECT)).toMatch(/loopback/)
    expect(refusal('52.216.0.1', REDIRECT)).toBeUndefined()
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['http://localhost:8080/a', true],
    ['http://127.0.0.1/a', true],
    ['http://[::1]:9/a', true],
    ['http://files.test/a', false],
    ['http://10.0.0.5/a', false],
    ['http://127.0.0.1.nip.io/a', false]
  ])('%s: %s', (url, loopback) => {
    expect(isLoopbackHost(new URL(url))).toBe(loopback)
  })
})

describe('checkFileUrl', () => {
  it('takes https anywhere and plain http from loopback only', () => {
    expect(() =>
      checkFileUrl(new URL('https://bucket.s3.amazonaws.com/a.csv?X-Amz-Signature=s'), FIRST)
    ).not.toThrow()
    expect(() => checkFileUrl(new URL('http://127.0.0.1:9/a.csv'), FIRST)).not.toThrow()
    expect(() =>
      checkFileUrl(new URL('http://bucket.s3.amazonaws.com/a.csv?X-Amz-Signature=s3cr3t'), FIRST)
    ).toThrow(/^The result URL bucket\.s3\.amazonaws\.com\/…\/a\.csv, over http: refused/)
  })

  it('says which redirect went where, described, never printed', () => {
    let error: unknown
    try {
      checkFileUrl(
        new URL('http://evil.example/x/y.csv?sig=s3cr3t'),
        REDIRECT,
        new URL('https://bucket.example/tok3n/a.csv?X-Amz-Signature=s3cr3t')
      )
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(RefusedHostError)
    expect((error as Error).message).toMatch(
      /^bucket\.example\/…\/a\.csv redirected to evil\.example\/…\/y\.csv, over http: refused/
    )
    expect((error as Error).message).not.toMatch(/s3cr3t|tok3n/)
  })

  it('refuses an IP literal the rule refuses, before any lookup', () => {
    expect(() => checkFileUrl(new URL('https://169.254.169.254/latest/meta-data/'), FIRST)).toThrow(
      /169\.254\.169\.254 is a link-local address/
    )
    expect(() => checkFileUrl(new URL('https://[fe80::1]/x'), FIRST)).toThrow(
      /fe80::1 is a link-local/
    )
    expect(() => checkFileUrl(new URL('https://10.1.2.3/x'), REDIRECT)).toThrow(/private network/)
    expect(() => checkFileUrl(new URL('https://10.1.2.3/x'), FIRST)).not.toThrow()
  })
})

describe('guardedLookup', () => {
  /** A lookup that answers from a table and records each name it was asked for. */
  function table(entries: Record<string, string[]>): { lookup: Lookup; asked: string[] } {
    const asked: string[] = []
    const lookup = ((
      hostname: string,
      _options: LookupOptions,
      callback: (...args: unknown[]) => void
    ) => {
      asked.push(hostname)
      const addresses: LookupAddress[] = (entries[hostname] ?? []).map(address => ({
        address,
        family: address.includes(':') ? 6 : 4
      }))
      callback(null, addresses)
    }) as unknown as Lookup
    return { lookup, asked }
  }

  const resolve = (lookup: Lookup, host: string, all: boolean): Promise<unknown> =>
    new Promise((done, fail) => {
      lookup(host, { all }, (error, address, family) => {
        if (error) fail(error)
        else done(all ? address : [address, family])
      })
    })

  it('passes on a public address, in the form node asked for', async () => {
    const { lookup } = table({ 'bucket.example': ['52.216.0.1'] })
    const guarded = guardedLookup(lookup, REDIRECT)
    await expect(resolve(guarded, 'bucket.example', false)).resolves.toEqual(['52.216.0.1', 4])
    await expect(resolve(guarded, 'bucket.example', true)).resolves.toEqual([
      { address: '52.216.0.1', family: 4 }
    ])
  })

  it.each([
    [
      'metadata.test',
      ['169.254.169.254'],
      /metadata\.test resolves to 169\.254\.169\.254, a link-local address/
    ],
    [
      'internal.test',
      ['10.0.0.5'],
      /internal\.test resolves to 10\.0\.0\.5, a private network address/
    ],
    ['mixed.test', ['52.216.0.1', 'fd00::5'], /resolves to fd00::5, a private network address/],
    ['local.test', ['127.0.0.1'], /loopback/]
  ])(
    'refuses %s (%s) for a redirect: the lookup was asked, nothing to connect to',
    async (host, addresses, why) => {
      const { lookup, asked } = table({ [host]: addresses })
      await expect(resolve(guardedLookup(lookup, REDIRECT), host, true)).rejects.toThrow(why)
      await expect(resolve(guardedLookup(lookup, REDIRECT), host, false)).rejects.toBeInstanceOf(
        RefusedHostError
      )
      expect(asked).toEqual([host, host])
    }
  )

  it('takes a private address for the first URL (an S3 VPC endpoint), never a link-local one', async () => {
    const { lookup } = table({
      'bucket.vpce.test': ['10.0.0.7'],
      'metadata.test': ['169.254.169.254']
    })
    await expect(resolve(guardedLookup(lookup, FIRST), 'bucket.vpce.test', false)).resolves.toEqual(
      ['10.0.0.7', 4]
    )
    await expect(resolve(guardedLookup(lookup, FIRST), 'metadata.test', false)).rejects.toThrow(
      /link-local/
    )
  })
})
