import { describe, expect, it } from 'vitest'
import { describeUrl, redact, registerSecret, urlSecrets } from '../../../src/support/secrets.js'
import { expectFreeOf } from '../../helpers/leaks.js'

const TOKEN = 'a1b2c3d4e5f6secrettoken'
const SIGNED =
  `https://s3.amazonaws.com/datafiniti-voltaire-files/${TOKEN}/6073_1.csv` +
  '?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20240101%2Fus-east-1' +
  '&X-Amz-Date=20240101T000000Z&X-Amz-Expires=604800&X-Amz-Signature=0123456789abcdef'

describe('describeUrl', () => {
  it('shows only the host and the file name', () => {
    expect(describeUrl(SIGNED)).toBe('s3.amazonaws.com/…/6073_1.csv')
  })

  it('never shows the path prefix (a v3 prefix can be the token) or the query', () => {
    expectFreeOf(describeUrl(SIGNED), [
      TOKEN,
      'datafiniti-voltaire-files',
      '?',
      'X-Amz',
      '0123456789abcdef',
      'AKIAEXAMPLE'
    ])
  })

  it('keeps a port in the host', () => {
    expect(describeUrl('http://127.0.0.1:9000/bucket/key/file.json?sig=1')).toBe(
      '127.0.0.1:9000/…/file.json'
    )
  })

  it('decodes the file name', () => {
    expect(describeUrl('https://h.example/a/my%20file%C3%9C.csv')).toBe('h.example/…/my fileÜ.csv')
  })

  it('keeps an undecodable file name as it is', () => {
    expect(describeUrl('https://h.example/a/bad%E0%A4%A.csv')).toBe('h.example/…/bad%E0%A4%A.csv')
  })

  it('drops user info', () => {
    const shown = describeUrl(`https://${TOKEN}:x@h.example/dir/file.csv`)
    expect(shown).toBe('h.example/…/file.csv')
    expect(shown).not.toContain(TOKEN)
  })

  it('never shows a query on a URL without a path', () => {
    const shown = describeUrl(`https://h.example/?X-Amz-Signature=${TOKEN}`)
    expect(shown).not.toContain(TOKEN)
    expect(shown).toContain('h.example')
  })

  it('says so for an unparseable URL, without echoing it', () => {
    expect(describeUrl(`not a url ${TOKEN}`)).toBe('(unparseable URL)')
  })
})

describe('redact', () => {
  it('removes literal secrets', () => {
    expect(redact(`token ${TOKEN} and again ${TOKEN}.`, [TOKEN])).toBe('token *** and again ***.')
  })

  it('removes every one of several secrets', () => {
    const basic = Buffer.from(`${TOKEN}:`).toString('base64')
    const out = redact(`Authorization: Basic ${basic} for ${TOKEN}`, [TOKEN, basic])
    expect(out).not.toContain(TOKEN)
    expect(out).not.toContain(basic)
    expect(out).toBe('Authorization: Basic *** for ***')
  })

  it('ignores secrets shorter than 4 characters (they would mangle ordinary text)', () => {
    expect(redact('abc abc', ['abc', ''])).toBe('abc abc')
    expect(redact('abcd abcd', ['abcd'])).toBe('*** ***')
  })

  it('leaves text without secrets or URLs alone', () => {
    expect(redact('GET /v3/requests/6073 answered HTTP 500')).toBe(
      'GET /v3/requests/6073 answered HTTP 500'
    )
  })

  it('rewrites URLs in text to host and file name', () => {
    const out = redact(`failed to fetch ${SIGNED} after 3 tries`)
    expect(out).toBe('failed to fetch s3.amazonaws.com/…/6073_1.csv after 3 tries')
  })

  it('rewrites every URL, http and https, in any case', () => {
    const out = redact(
      `a HTTPS://One.example/p/${TOKEN}/x.csv?sig=1 b http://two.example/q/${TOKEN}/y.json c`
    )
    expect(out).not.toContain(TOKEN)
    expect(out).toContain('one.example/…/x.csv')
    expect(out).toContain('two.example/…/y.json')
  })

  it('stops a URL at quotes and angle brackets', () => {
    expect(redact(`"${SIGNED}"`)).toBe('"s3.amazonaws.com/…/6073_1.csv"')
    expect(redact(`<a href='${SIGNED}'>x</a>`)).toBe(
      "<a href='s3.amazonaws.com/…/6073_1.csv'>x</a>"
    )
  })

  it.each([
    ['X-Amz-Signature', '?X-Amz-Signature=abcdef0123&x=1', '?X-Amz-Signature=***&x=1'],
    ['Signature', '&Signature=abc%2Bdef&Expires=1', '&Signature=***&Expires=1'],
    ['X-Amz-Credential', '&X-Amz-Credential=AKIA%2F2024', '&X-Amz-Credential=***'],
    ['X-Amz-Security-Token', '?X-Amz-Security-Token=FwoG', '?X-Amz-Security-Token=***'],
    ['AWSAccessKeyId', '?AWSAccessKeyId=AKIA123', '?AWSAccessKeyId=***'],
    ['sig', '&sig=xyz', '&sig=***'],
    ['lower-case name', '&x-amz-signature=abc', '&x-amz-signature=***'],
    ['X-Goog-Signature', '?X-Goog-Signature=0a1b2c', '?X-Goog-Signature=***'],
    ['X-Goog-Credential', '&X-Goog-Credential=sa%40p.iam', '&X-Goog-Credential=***'],
    ['a name holding "token"', '&access_token=t0k', '&access_token=***'],
    ['a name holding "key"', '&api_key=k3y&x=1', '&api_key=***&x=1'],
    ['a name holding "Signature"', '?MySignature=s1g', '?MySignature=***']
  ])('strips a stray %s parameter outside a URL', (_name, text, expected) => {
    expect(redact(`query was ${text} end`)).toBe(`query was ${expected} end`)
  })

  it('strips every signature parameter in one text, and keeps the others', () => {
    const out = redact('query X-Amz-Date=D&X-Amz-Credential=CRED&X-Amz-Signature=SIG&x=1')
    expect(out).not.toContain('CRED')
    expect(out).not.toContain('SIG')
    expect(out).toContain('X-Amz-Date=D')
    expect(out).toContain('&x=1')
  })

  it('keeps a parameter whose name holds no credential word', () => {
    expect(redact('?X-Amz-Date=20260101&Expires=60')).toBe('?X-Amz-Date=20260101&Expires=60')
  })

  it.each([
    ['a timeout', 'Request timeout: /bucket/6073_1.csv?X-Amz-Signature=abc&Expires=1'],
    ['quoted', 'GET "/v3/tok_secret/results/6073_1.csv?sv=1&se=2"'],
    ['at the start', '/a/b/6073_1.csv?q=1']
  ])('reduces a bare path and query (%s) to its file name', (_name, text) => {
    const out = redact(text)
    expect(out).toContain('/…/6073_1.csv')
    expect(out).not.toMatch(/bucket|tok_secret|\/a\/b|\?/)
  })

  it('removes secrets even inside a URL', () => {
    const out = redact(`https://api.example/v3/${TOKEN}/results.csv`, [TOKEN])
    expect(out).not.toContain(TOKEN)
  })

  it('handles an S3 XML error that echoes the signature', () => {
    const xml =
      '<Error><Code>SignatureDoesNotMatch</Code><StringToSign>x</StringToSign>' +
      '<SignatureProvided>abc123</SignatureProvided><CanonicalRequest>GET\n/key\n' +
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=abc123' +
      '</CanonicalRequest></Error>'
    const out = redact(xml)
    expect(out).not.toMatch(/X-Amz-Signature=abc123/)
    expect(out).not.toMatch(/X-Amz-Credential=AKIA/)
  })
})

describe('registerSecret', () => {
  it('makes every later redact() remove the registered secret', () => {
    const secret = 'registered-secret-42'
    expect(redact(`value ${secret}`)).toBe(`value ${secret}`)
    registerSecret(secret)
    registerSecret('abc')
    expect(redact(`value ${secret} and abc`)).toBe('value *** and abc')
  })
})

describe('describeUrl for a bare origin', () => {
  it('shows an origin without a path or query whole', () => {
    expect(describeUrl('https://api.datafiniti.co')).toBe('https://api.datafiniti.co')
    expect(describeUrl('https://api.datafiniti.co/')).toBe('https://api.datafiniti.co')
  })
})

describe('urlSecrets', () => {
  const url =
    'https://bucket.s3.amazonaws.com/results/6073_1.csv?X-Amz-Credential=ASIA%2F20260101%2Fus-east-1' +
    '&X-Amz-Security-Token=IQoJb3JpZ2luX2Vj%2B%2F%3D%3Dlong&X-Amz-Signature=0123456789abcdef&X-Amz-Date=20260101T000000Z'

  it('masks the URL, its path and every credential-like value, as sent and decoded', () => {
    const secrets = urlSecrets(url)
    expect(secrets).toEqual(
      expect.arrayContaining([
        url,
        'https://bucket.s3.amazonaws.com/results/6073_1.csv',
        '/results/6073_1.csv',
        'IQoJb3JpZ2luX2Vj%2B%2F%3D%3Dlong',
        'IQoJb3JpZ2luX2Vj+/==long',
        '0123456789abcdef',
        'ASIA%2F20260101%2Fus-east-1',
        'ASIA/20260101/us-east-1'
      ])
    )
    expect(secrets).not.toContain('20260101T000000Z')
  })

  it.each(['Signature', 'X-Goog-Signature', 'sig'])('masks a %s value', name => {
    expect(urlSecrets(`https://h.example/a.csv?${name}=abcdefgh12&Expires=1`)).toContain(
      'abcdefgh12'
    )
  })

  it('leaves out a short path, which is no credential', () => {
    expect(urlSecrets('https://h.example/a.csv?x=1')).not.toContain('/a.csv')
  })
})
