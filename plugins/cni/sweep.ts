// Purge's sweep: what a realm's or stack's spaces and cells left behind that the YAML no longer knows. Spaces are
// found by the names their traces carry (conflists declaring `kukeon.<realm>.<space>`, IPAM lease directories,
// cached results, the registry); cells by their CNI container id prefix (`<realm>_<space>_<stack>_`).

import fs from 'node:fs';
import path from 'node:path';
import type { CellNetworks } from './cell-network';
import type { CniConfig } from './config';
import { cniContainerId, parseNetworkName, spaceNetworkNames } from './naming';
import type { ResultCache } from './result-cache';
import type { SpaceNetworks } from './space-network';
import type { SpaceRegistry } from './space-registry';

export interface SweepDeps {
  config: CniConfig;
  spaces: SpaceNetworks;
  cells: CellNetworks;
  cache: ResultCache;
  registry: SpaceRegistry;
}

/** Spaces of `realm` that left any trace on this host. */
async function spacesWithTraces(d: SweepDeps, realm: string): Promise<Set<string>> {
  const found = new Set<string>();
  const note = (network: string | undefined) => {
    const p = network ? parseNetworkName(network) : undefined;
    if (p && p.realm === realm) found.add(p.space);
  };
  for (const c of d.spaces.conflistsInConfDir()) note(c.network);
  try {
    for (const n of fs.readdirSync(d.config.ipamDataDir)) note(n);
  } catch {
    // no lease directory at all
  }
  try {
    for (const n of fs.readdirSync(d.cache.dir)) {
      if (!n.startsWith(`kukeon.${realm}.`)) continue;
      try {
        note((JSON.parse(fs.readFileSync(path.join(d.cache.dir, n), 'utf8')) as { networkName?: string }).networkName);
      } catch {
        // not a cache entry
      }
    }
  } catch {
    // no cache directory
  }
  for (const o of Object.keys(await d.registry.entries())) {
    const [r, s] = o.split('/');
    if (r === realm && s) found.add(s);
  }
  return found;
}

/** Purge of a realm: every space of it with traces (the stored ones were purged before) is removed. */
export async function sweepRealm(d: SweepDeps, realm: string): Promise<string[]> {
  const removed: string[] = [];
  for (const space of await spacesWithTraces(d, realm)) removed.push(...(await d.spaces.remove(realm, space, undefined)));
  return removed;
}

/**
 * Purge of a stack (or a cell with `cellPath`): DEL of every cached attachment of its cells, then any lease file
 * still held by one of its container ids.
 */
export async function sweepCells(d: SweepDeps, realm: string, space: string, prefixPath: readonly string[]): Promise<string[]> {
  const network = spaceNetworkNames(realm, space).network;
  const prefix = prefixPath.length === 4 ? cniContainerId(prefixPath) : `${prefixPath.join('_')}_`;
  const removed: string[] = [];
  for (const entry of d.cache.entriesOf(network, prefix)) {
    await d.cells.release(entry);
    removed.push(`attachment ${entry.containerId}`);
  }
  const dir = path.join(d.config.ipamDataDir, network);
  let leases: string[] = [];
  try {
    leases = fs.readdirSync(dir).filter((n) => /^\d+\.\d+\.\d+\.\d+$/.test(n));
  } catch {
    return removed;
  }
  for (const ip of leases) {
    const file = path.join(dir, ip);
    let holder = '';
    try {
      holder = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0].trim();
    } catch {
      continue;
    }
    if (prefixPath.length === 4 ? holder === prefix : holder.startsWith(prefix)) {
      fs.rmSync(file, { force: true });
      removed.push(`lease ${ip} of ${holder}`);
    }
  }
  return removed;
}
