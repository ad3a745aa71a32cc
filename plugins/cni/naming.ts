// Names a space's network goes by: the conflist file, the CNI network name, the bridge and the iptables chain;
// and the CNI container id of a cell. All are functions of the names alone, so purge can find what a space
// left behind even when its document is gone.

import { createHash } from 'node:crypto';

/** Every kukeon bridge starts with this; isolation rules match other spaces' bridges by it (`kk-+`). */
export const BRIDGE_PREFIX = 'kk-';
/** The kernel's limit on interface names (IFNAMSIZ - 1). */
export const MAX_IFNAME = 15;
/** Network names are `kukeon.<realm>.<space>`: names never contain a dot, so the mapping is one to one. */
export const NETWORK_PREFIX = 'kukeon.';

export interface SpaceNetworkNames {
  /** The CNI network name, also host-local's lease directory and the cache file prefix. */
  network: string;
  /** `<realm>-<space>.conflist`: two spaces may map to the same one (`a-b`/`c`, `a`/`b-c`); the second is refused. */
  fileName: string;
  /** `kk-<up to 5 letters of the space>-<6 hex of a hash of realm/space>`: at most 15 characters. */
  bridge: string;
  /** The filter chain holding the space's isolation rules. */
  chain: string;
}

const hash = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

export function spaceNetworkNames(realm: string, space: string): SpaceNetworkNames {
  const short = space.slice(0, 5).replace(/-+$/, '');
  const bridge = `${BRIDGE_PREFIX}${short}-${hash(`${realm}/${space}`, 6)}`;
  return { network: `${NETWORK_PREFIX}${realm}.${space}`, fileName: `${realm}-${space}.conflist`, bridge, chain: `KUKEON-${bridge}` };
}

/** realm and space of a kukeon network name, or undefined for another network. */
export function parseNetworkName(network: string): { realm: string; space: string } | undefined {
  const m = /^kukeon\.([a-z0-9-]+)\.([a-z0-9-]+)$/.exec(network);
  return m ? { realm: m[1], space: m[2] } : undefined;
}

/** CNI_CONTAINERID of a cell: `<realm>_<space>_<stack>_<cell>`, or `k-` + 24 hex of a hash when that is long. */
export function cniContainerId(cellPath: readonly string[]): string {
  const readable = cellPath.join('_');
  return readable.length <= 100 ? readable : `k-${hash(cellPath.join('/'), 24)}`;
}
