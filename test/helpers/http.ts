import type { Http, TextResponse } from '../../src/http/transport.js'

/** One request the fake saw, with a copy of its headers (the client may edit the original). */
export interface HttpCall {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string | undefined
  limitBytes?: number | undefined
  followRedirects?: boolean | undefined
}

/** Answers in call order (a missing one is an empty 200), or computed from the URL. */
export type Answers = Partial<TextResponse>[] | ((url: string) => Partial<TextResponse>)

/**
 * An Http that answers text requests, GET and POST alike, from `answers` and records each call.
 * It refuses to stream: the API clients must never need to.
 */
export function fakeHttp(answers: Answers): { http: Http; calls: HttpCall[] } {
  const calls: HttpCall[] = []
  const answer = (call: HttpCall): Promise<TextResponse> => {
    calls.push(call)
    const r = typeof answers === 'function' ? answers(call.url) : (answers[calls.length - 1] ?? {})
    return Promise.resolve({
      status: r.status ?? 200,
      headers: r.headers ?? {},
      text: r.text ?? ''
    })
  }
  const http: Http = {
    getText: (url, headers, limitBytes, followRedirects) =>
      answer({ method: 'GET', url, headers: { ...headers }, limitBytes, followRedirects }),
    postText: (url, headers, body) =>
      answer({ method: 'POST', url, headers: { ...headers }, body }),
    getStream: () => Promise.reject(new Error('the API client must not stream'))
  }
  return { http, calls }
}

export function json(body: unknown, status = 200): Partial<TextResponse> {
  return { status, text: JSON.stringify(body) }
}
