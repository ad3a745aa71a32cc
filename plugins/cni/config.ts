// The cni plugin's configuration: where conflists, plugin binaries, cached results and IPAM leases live, and the
// pool space subnets come from. Defaults are those of libcni and the reference plugins, so `cnitool` and other
// runtimes on the host read the same files.

import type { ConfigSchema } from '../../sdk';

export interface CniConfig {
  /** Where each space's conflist is written (`<realm>-<space>.conflist`). */
  confDir: string;
  /** Searched in order for plugin binaries; also the CNI_PATH given to plugins. */
  binDirs: string[];
  /** libcni's cache dir: results of ADD are kept in `<cacheDir>/results/` for DEL and CHECK. */
  cacheDir: string;
  /** host-local's dataDir: leases in `<ipamDataDir>/<network>/`. */
  ipamDataDir: string;
  /** Spaces without `spec.network.subnet` get the first free /24 of it. */
  subnetPool: string;
  /** Masquerade a space's traffic that leaves through a non-kukeon interface (outbound connectivity). */
  masquerade: boolean;
  /** How long one CNI plugin execution may take before it is killed and the step fails naming the plugin. */
  timeoutSeconds?: number;
}

export const CNI_CONFIG_SCHEMA: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    confDir: { type: 'string', default: '/etc/cni/net.d', description: "directory of the spaces' conflists" },
    binDirs: {
      type: 'array',
      items: { type: 'string' },
      default: ['/opt/cni/bin', '/usr/lib/cni'],
      description: 'plugin binary directories, searched in order',
    },
    cacheDir: { type: 'string', default: '/var/lib/cni', description: 'results of ADD, in <cacheDir>/results (as libcni)' },
    ipamDataDir: { type: 'string', default: '/var/lib/cni/networks', description: "host-local's lease directory" },
    subnetPool: { type: 'string', default: '10.90.0.0/16', description: 'pool of /24 space subnets' },
    masquerade: { type: 'boolean', default: true, description: "masquerade a space's outbound traffic" },
    timeoutSeconds: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 60,
      description: 'how long one CNI plugin execution may take before it is killed',
    },
  },
};
