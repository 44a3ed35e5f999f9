/**
 * A throw-away certificate authority, made with the openssl CLI when a test file loads, and a
 * server certificate it signed for the simulator's names. The action trusts the CA only through
 * NODE_EXTRA_CA_CERTS, as a runner behind a corporate CA would; nothing is committed.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterAll } from 'vitest'

export interface ThrowawayCa {
  /** The CA's certificate, as a file for NODE_EXTRA_CA_CERTS. */
  caFile: string
  /** The server's key and certificate (PEM), for the simulator's `tls` option. */
  key: string
  cert: string
}

/** Signs a certificate for 127.0.0.1, localhost and `names`; removed after the file's tests. */
export function useThrowawayCa(names: readonly string[] = []): ThrowawayCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'throwaway-ca-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const at = (name: string): string => path.join(dir, name)
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'pipe' })
  }
  // prettier-ignore
  openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', '/CN=Throw-away test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', at('ca.key'), '-out', at('ca.pem')
  )
  // prettier-ignore
  openssl(
    'req', '-newkey', 'rsa:2048', '-nodes', '-sha256',
    '-subj', '/CN=127.0.0.1', '-keyout', at('server.key'), '-out', at('server.csr')
  )
  const alt = ['IP:127.0.0.1', 'DNS:localhost', ...names.map(name => `DNS:${name}`)].join(',')
  writeFileSync(
    at('server.ext'),
    `subjectAltName=${alt}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`
  )
  // prettier-ignore
  openssl(
    'x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'),
    '-CAcreateserial', '-days', '2', '-sha256', '-extfile', at('server.ext'),
    '-out', at('server.pem')
  )
  return {
    caFile: at('ca.pem'),
    key: readFileSync(at('server.key'), 'utf8'),
    cert: readFileSync(at('server.pem'), 'utf8')
  }
}
