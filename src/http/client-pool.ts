import type { IncomingMessage, RequestOptions } from 'node:http'
import { HttpClient, getProxyUrl } from '@actions/http-client'
import { RefusedHostError, guardedLookup, type AddressRule, type Lookup } from './address.js'
import { stallError, type Scope } from './deadline.js'
import { FatalError, TransientError } from '../support/errors.js'
import { describeUrl, redact } from '../support/secrets.js'

/**
 * @actions/http-client clients, one per origin and address check, each request's head under a
 * deadline and the run's signal: either destroys the socket (the client's own timeout only
 * half-closes it, which a peer that ignores our FIN never answers, and words its error with the
 * URL's path and query).
 */
export class ClientPool {
  private readonly clients = new Map<string, HttpClient>()
  // Set while the client prepares a request, which it does synchronously in request(): the
  // handler hands the request its signal and lookup, which the client has no option for.
  private preparing: { signal: AbortSignal; lookup: Lookup | undefined } | undefined
  private readonly handler = {
    prepareRequest: (request: RequestOptions): void => {
      if (!this.preparing) return
      request.signal = this.preparing.signal
      if (this.preparing.lookup) request.lookup = this.preparing.lookup
    },
    canHandleAuthentication: () => false,
    handleAuthentication: () => Promise.reject(new Error('no authentication handler'))
    // The client's own type for its handlers is not exported.
  } as unknown as NonNullable<ConstructorParameters<typeof HttpClient>[1]>[number]

  constructor(
    private readonly userAgent: string,
    private readonly timeoutMs: number,
    /** The run's signal, one child per request. */
    private readonly scope: Scope,
    /** Resolves names for requests under an address rule (address.ts checks what it finds). */
    private readonly lookup: Lookup
  ) {}

  /** The answer's head; with a `rule`, the host's addresses are checked before connecting. */
  async ask(
    method: 'GET' | 'POST',
    url: URL,
    headers: Record<string, string>,
    body: string | null,
    rule: AddressRule | undefined
  ): Promise<IncomingMessage> {
    const { timeoutMs } = this
    const { signal, dispose } = this.scope()
    // Behind a proxy the proxy resolves names: only the URL rules (address.ts) apply there.
    const ruleKey = rule && !getProxyUrl(url.href) ? JSON.stringify(rule) : ''
    const lookup = rule && ruleKey ? this.lookupFor(rule, ruleKey) : undefined
    signal?.throwIfAborted()
    const controller = new AbortController()
    const onAbort = (): void => controller.abort(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(
      () => controller.abort(stallError(url.host, 'before its answer', timeoutMs)),
      timeoutMs
    )
    try {
      this.preparing = { signal: controller.signal, lookup }
      const pending = this.clientFor(url, ruleKey).request(method, url.href, body, { ...headers })
      this.preparing = undefined
      return (await pending).message
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason
      throw unsentError(error, url)
    } finally {
      this.preparing = undefined
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      dispose()
    }
  }

  private readonly lookups = new Map<string, Lookup>()
  private lookupFor(rule: AddressRule, key: string): Lookup {
    let lookup = this.lookups.get(key)
    if (!lookup) this.lookups.set(key, (lookup = guardedLookup(this.lookup, rule)))
    return lookup
  }

  dispose(): void {
    for (const client of this.clients.values()) client.dispose()
    this.clients.clear()
  }

  /**
   * A client keeps the agent of its first request, direct or a proxy tunnel, whatever the next URL
   * is: one per origin, and per address rule, since an agent reuses a socket whatever resolved it.
   */
  private clientFor(url: URL, ruleKey: string): HttpClient {
    const key = `${url.origin} ${ruleKey}`
    let client = this.clients.get(key)
    if (!client) {
      client = new HttpClient(this.userAgent, [this.handler], {
        keepAlive: true,
        allowRetries: false,
        allowRedirects: false,
        // A backstop only: the deadline above comes first.
        socketTimeout: this.timeoutMs * 4
      })
      this.clients.set(key, client)
    }
    return client
  }
}

/**
 * A failure before the answer, worded without the URL's path or query (a signed URL's credential):
 * a refused address says which URL, anything else keeps its code (what decides a retry).
 */
export function unsentError(error: unknown, url: URL): unknown {
  if (error instanceof RefusedHostError) {
    return new RefusedHostError(`${describeUrl(url.href)}: refused: ${error.message}.`)
  }
  if (!(error instanceof Error) || error instanceof FatalError || error instanceof TransientError)
    return error
  return Object.assign(new Error(`${url.host}: ${redact(error.message)}`), {
    code: (error as NodeJS.ErrnoException).code
  })
}
