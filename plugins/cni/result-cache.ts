// The cached result of ADD, which DEL and CHECK need (the spec: "the Result of the immediately previous ADD"),
// kept where and as libcni keeps it: `<cacheDir>/results/<network>-<containerId>-<ifname>`, a `cniCacheV1`
// JSON with the configuration used (base64), the capability args and the result. kukeon adds the identity
// of the network namespace it attached, so a later DEL never enters a namespace whose pid was reused.

import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../../sdk';
import { readFileIfExists } from './read-file';

export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  /** The conflist bytes used for ADD, base64 (libcni's field). */
  config: string;
  ifName: string;
  networkName: string;
  netns?: string;
  cniArgs?: [string, string][];
  capabilityArgs?: Record<string, unknown>;
  result: unknown;
  /** kukeon's additions; other readers ignore them. */
  kukeon?: {
    /** `<dev>:<inode>` of the network namespace at ADD. */
    netnsId?: string;
    /** `realm/space/stack/cell`. */
    cell?: string;
    addedAt?: string;
  };
}

export class ResultCache {
  constructor(private readonly cacheDir: string) {}

  get dir(): string {
    return path.join(this.cacheDir, 'results');
  }

  file(network: string, containerId: string, ifname: string): string {
    return path.join(this.dir, `${network}-${containerId}-${ifname}`);
  }

  load(network: string, containerId: string, ifname: string): CachedAttachment | undefined {
    const text = readFileIfExists(this.file(network, containerId, ifname));
    if (!text) return undefined;
    try {
      const entry = JSON.parse(text) as CachedAttachment;
      return entry && entry.kind === 'cniCacheV1' ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  save(entry: CachedAttachment): void {
    writeFileAtomicSync(this.file(entry.networkName, entry.containerId, entry.ifName), JSON.stringify(entry), { mode: 0o600 });
  }

  remove(network: string, containerId: string, ifname: string): void {
    fs.rmSync(this.file(network, containerId, ifname), { force: true });
  }

  /**
   * The entries of a network, optionally only those whose container id starts with `idPrefix`. File names alone
   * are ambiguous (`kukeon.r.a-...` also starts the files of space `a-b`), so each file's own fields decide.
   */
  entriesOf(network: string, idPrefix = ''): CachedAttachment[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: CachedAttachment[] = [];
    for (const name of names.filter((n) => n.startsWith(`${network}-${idPrefix}`))) {
      let entry: CachedAttachment | undefined;
      try {
        entry = JSON.parse(fs.readFileSync(path.join(this.dir, name), 'utf8')) as CachedAttachment;
      } catch {
        continue;
      }
      if (
        entry?.networkName === network &&
        entry.containerId?.startsWith(idPrefix) &&
        name === `${network}-${entry.containerId}-${entry.ifName}`
      )
        out.push(entry);
    }
    return out;
  }
}
