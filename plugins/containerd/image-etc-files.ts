// An image's /etc/passwd and /etc/group, read from its layers (image-layers.ts): the topmost layer that has the
// file, or whites it out (`.wh.passwd`, or an opaque /etc), decides.

import type { ContainerdClient } from './grpc/containerd-client';
import type { EtcFiles } from './exec-user';
import { imageLayers } from './image-layers';

const WANTED = { 'etc/passwd': 'passwd', 'etc/group': 'group' } as const;

export async function readImageEtcFiles(client: ContainerdClient, ns: string, manifestDigest: string): Promise<EtcFiles> {
  const found: EtcFiles = {};
  const decided = new Set<keyof EtcFiles>();
  for (const entries of (await imageLayers(client, ns, manifestDigest)).reverse()) {
    if (decided.size === 2) break;
    let opaque = false;
    const whitedOut = new Set<keyof EtcFiles>();
    for await (const entry of entries) {
      if (entry.name === 'etc/.wh..wh..opq') opaque = true;
      for (const [file, key] of Object.entries(WANTED) as [keyof typeof WANTED, keyof EtcFiles][]) {
        if (decided.has(key)) continue;
        if (entry.name === file && entry.type === 'file') found[key] = (await entry.buffer()).toString('utf8');
        if (entry.name === `etc/.wh.${key}`) whitedOut.add(key);
      }
    }
    for (const key of ['passwd', 'group'] as const) if (found[key] !== undefined || whitedOut.has(key) || opaque) decided.add(key);
  }
  return found;
}
