import { IN_PLACE, type Delivery } from './delivery.js'

/** `mode: urls`: nothing is downloaded; the outputs carry the signed URLs for a later step. */
export function urlsTarget(): Delivery {
  return { downloads: false, ...IN_PLACE }
}
