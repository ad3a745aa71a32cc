// An image's layers as kukeon reads them itself (user names from /etc, volume copy-up): from containerd's content
// store over its socket (so kukeond in its container reads them as kuke does), gzip, zstd or plain.

import type { ContainerdClient } from './grpc/containerd-client';
import { archiveBytes } from './image/import-oci-archive';
import { type TarStreamEntry, readTarStream } from './image/tar-reader';

/** The layers of the image `manifestDigest`, bottom-up, each its tar entries: nothing of a layer is read until it is iterated. */
export async function imageLayers(client: ContainerdClient, ns: string, manifestDigest: string): Promise<AsyncIterable<TarStreamEntry>[]> {
  const manifest = await client.content.readJson<{ layers?: { digest: string }[] }>(ns, manifestDigest);
  return (manifest.layers ?? []).map((layer) => readTarStream(archiveBytes(client.content.readChunks(ns, layer.digest))));
}
