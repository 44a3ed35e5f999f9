import { IN_PLACE, type Delivery } from './delivery.js'

/** `mode: files`: the verified files stay in the download directory for the job's next steps. */
export function filesTarget(): Delivery {
  return { downloads: true, ...IN_PLACE }
}
