import type { Mode } from '../domain/model.js'
import { artifactTarget } from './artifact-target.js'
import type { Delivery, DeliveryPorts, DeliverySettings } from './delivery.js'
import { filesTarget } from './files-target.js'
import { urlsTarget } from './urls-target.js'

/** Every value of the `mode` input, and the target that implements it. */
const TARGETS: Record<Mode, (settings: DeliverySettings, ports: DeliveryPorts) => Delivery> = {
  artifact: artifactTarget,
  files: filesTarget,
  urls: urlsTarget
}

/** The target the `mode` input names. */
export function deliveryFor(settings: DeliverySettings, ports: DeliveryPorts): Delivery {
  return TARGETS[settings.mode](settings, ports)
}
