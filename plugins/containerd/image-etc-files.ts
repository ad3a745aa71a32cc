// An image's /etc/passwd and /etc/group, read from its layers in containerd's content store (over the socket,
// so kukeond in its container reads them as kuke does): the topmost layer that has the file, or whites it out
// (`.wh.passwd`, or an opaque /etc), decides.

import type { ContainerdClient } from './grpc/containerd-client';
import { archiveBytes } from './image/import-oci-archive';
import type { EtcFiles } from './exec-user';
import { readTarStream } from './image/tar-reader';

const WANTED = { 'etc/passwd': 'passwd', 'etc/group': 'group' } as const;

interface Descriptor {
  mediaType: string;
  digest: string;
}

export async function readImageEtcFiles(client: ContainerdClient, ns: string, manifestDigest: string): Promise<EtcFiles> {
  const manifest = await client.content.readJson<{ layers?: Descriptor[] }>(ns, manifestDigest);
  const found: EtcFiles = {};
  const decided = new Set<keyof EtcFiles>();
  for (const layer of [...(manifest.layers ?? [])].reverse()) {
    if (decided.size === 2) break;
    // gzip, zstd or uncompressed: archiveBytes tells them apart by their first bytes
    const bytes = archiveBytes(client.content.readChunks(ns, layer.digest));
    let opaque = false;
    const whitedOut = new Set<keyof EtcFiles>();
    for await (const entry of readTarStream(bytes)) {
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
