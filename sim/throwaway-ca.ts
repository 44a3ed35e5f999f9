/**
 * A throw-away certificate authority, made with the openssl CLI at run time, and a server
 * certificate it signed for 127.0.0.1, localhost and `names`: for the simulator's `tls` option in
 * the tests (test/helpers/tls.ts) and the bench. Nothing is committed or trusted system-wide: the
 * action trusts the CA only through NODE_EXTRA_CA_CERTS, as a runner behind a corporate CA would.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'

export interface ThrowawayCa {
  /** The CA's certificate, as a file for NODE_EXTRA_CA_CERTS (and curl's --cacert). */
  caFile: string
  /** The server's key and certificate (PEM), for the simulator's `tls` option. */
  key: string
  cert: string
}

/** Makes the CA and the server certificate in `dir`, which the caller removes. */
export function makeThrowawayCa(dir: string, names: readonly string[] = []): ThrowawayCa {
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
