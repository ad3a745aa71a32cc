// Pulls an image from a registry into a containerd namespace, the way containerd's own pull does it:
//   1. the manifest (or index → the platform's manifest), the config and the layers go into the content store,
//      each blob only when the store lacks it (a repeated pull fetches only what is missing; a layer whose
//      ingest was interrupted resumes at containerd's offset with an HTTP Range request);
//   2. the GC labels import sets (shared helpers of import-oci-archive.ts), then the layers are unpacked into
//      the snapshotter (committed under their chain id only when complete);
//   3. the image is created or updated under its canonical name, targeting what the registry resolved.
// Everything happens under a lease that expires by itself (one hour), deleted at the end: an interrupted pull
// leaves nothing the garbage collector keeps for ever.

import crypto from 'node:crypto';
import type { CallOptions, ContainerdClient, Labels } from '../grpc/containerd-client';
import { MEDIA_TYPES, contentLabeler, hostPlatform, indexGcLabels, labelAndUnpack } from './import-oci-archive';
import type { ImportPlatform, ImportProgress, OciDescriptor, OciImageConfig, OciIndex, OciManifest } from './import-oci-archive';
import { formatPlatform, parseReference, selectPlatform } from './reference';
import type { ImageReference } from './reference';
import { RegistryClient, RegistryError } from './registry-client';
import type { RegistryClientOptions } from './registry-client';

/** How many times one layer is fetched when its connection drops after some of it arrived. */
const LAYER_ATTEMPTS = 4;

export type PullProgress =
  | ImportProgress
  | { kind: 'resolved'; name: string; digest: string; mediaType: string }
  | { kind: 'fetch'; digest: string; size: number; what: 'config' | 'layer'; action: 'present' | 'start' | 'resume'; offset?: number }
  | { kind: 'bytes'; digest: string; done: number; size: number }
  | { kind: 'fetched'; digest: string; size: number };

export interface PullOptions extends RegistryClientOptions {
  snapshotter?: string;
  labels?: Labels;
  platform?: ImportPlatform;
  leaseExpireMs?: number;
  /** Layers fetched at once (3, as docker does). */
  concurrency?: number;
  onProgress?: (e: PullProgress) => void;
  signal?: AbortSignal;
  /** A registry client to reuse (its tokens); one is made from the options otherwise. */
  registry?: RegistryClient;
}

export interface PulledImage {
  name: string;
  /** The image target (what the reference resolved to: an index or a manifest). */
  digest: string;
  size: number;
  mediaType: string;
  manifestDigest: string;
  chainId: string;
  platform: string;
}

const isIndex = (mt: string) => mt === MEDIA_TYPES.ociIndex || mt === MEDIA_TYPES.dockerManifestList;
const ingestRef = (digest: string) => `kukeon-pull-${digest.replace(/[^A-Za-z0-9]/g, '-')}`;

export async function pullImage(
  client: ContainerdClient,
  ns: string,
  reference: string | ImageReference,
  opts: PullOptions = {},
): Promise<PulledImage> {
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const platform = opts.platform ?? hostPlatform();
  const progress = opts.onProgress ?? (() => undefined);
  const registry = opts.registry ?? new RegistryClient(opts);
  const snapshotter = opts.snapshotter ?? 'overlayfs';

  const lease = await client.leases.create(ns, {
    id: `kukeon-pull-${crypto.randomBytes(6).toString('hex')}`,
    expireInMs: opts.leaseExpireMs ?? 3600_000,
  });
  progress({ kind: 'lease', id: lease.id, action: 'created' });
  const call: CallOptions = { lease: lease.id };
  try {
    // a blob the store has is only added to our lease; returns whether it was there
    const hold = async (digest: string): Promise<boolean> => {
      if (!(await client.content.stat(ns, digest, call))) return false;
      await client.leases.addResource(ns, lease.id, { type: 'content', id: digest }, call);
      return true;
    };
    const storeSmall = async (digest: string, bytes: Buffer) => {
      if (!(await hold(digest))) await client.content.write(ns, { digest, data: bytes, ref: ingestRef(digest) }, call);
    };

    const root = await registry.manifest(ref, undefined, opts.signal);
    progress({ kind: 'resolved', name: ref.name, digest: root.digest, mediaType: root.mediaType });
    await storeSmall(root.digest, root.bytes);
    const label = contentLabeler(client, ns, call);

    let manifestDesc: OciDescriptor = { mediaType: root.mediaType, digest: root.digest, size: root.size };
    let manifestBytes = root.bytes;
    for (let depth = 0; isIndex(manifestDesc.mediaType); depth++) {
      if (depth > 4) throw new RegistryError(`${ref.name}: indexes nested too deeply`, 0);
      const index = JSON.parse(manifestBytes.toString('utf8')) as OciIndex;
      if (!Array.isArray(index.manifests))
        throw new RegistryError(`${ref.name}: index ${manifestDesc.digest} has no manifests`, 0, 'MANIFEST_INVALID');
      const pick = selectPlatform(index.manifests, platform);
      if (!pick) {
        const have = index.manifests.filter((m) => m.platform && m.platform.os !== 'unknown').map((m) => formatPlatform(m.platform!));
        throw new RegistryError(
          `${ref.name}: no image for ${formatPlatform(platform)} (the registry has: ${have.join(', ') || 'none'})`,
          0,
          'MANIFEST_UNKNOWN',
        );
      }
      const m = await registry.manifest(ref, pick.digest, opts.signal);
      await storeSmall(m.digest, m.bytes);
      await label(manifestDesc.digest, indexGcLabels(index));
      manifestDesc = { mediaType: pick.mediaType || m.mediaType, digest: m.digest, size: m.size };
      manifestBytes = m.bytes;
    }
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as OciManifest;
    if (!manifest.config || !Array.isArray(manifest.layers))
      throw new RegistryError(
        `${ref.name}: ${manifestDesc.digest} (${manifestDesc.mediaType}) is not an image manifest`,
        0,
        'MANIFEST_INVALID',
      );

    // config (small, needed for the diff ids)
    let configBytes: Buffer;
    if (await hold(manifest.config.digest)) {
      progress({ kind: 'fetch', digest: manifest.config.digest, size: manifest.config.size, what: 'config', action: 'present' });
      configBytes = await client.content.read(ns, manifest.config.digest, {}, call);
    } else {
      progress({ kind: 'fetch', digest: manifest.config.digest, size: manifest.config.size, what: 'config', action: 'start' });
      configBytes = await registry.blobBytes(ref, manifest.config.digest, opts.signal);
      await storeSmall(manifest.config.digest, configBytes);
      progress({ kind: 'fetched', digest: manifest.config.digest, size: configBytes.length });
    }
    const config = JSON.parse(configBytes.toString('utf8')) as OciImageConfig;

    // layers, a few at a time, each streamed from the registry into containerd
    const fetchLayer = async (layer: OciDescriptor): Promise<void> => {
      if (await hold(layer.digest)) {
        progress({ kind: 'fetch', digest: layer.digest, size: layer.size, what: 'layer', action: 'present' });
        return;
      }
      let done = 0;
      let lastReport = 0;
      const write = () =>
        client.content.writeResumable(
          ns,
          {
            digest: layer.digest,
            size: layer.size,
            ref: ingestRef(layer.digest),
            open: (offset) => {
              done = offset;
              progress({
                kind: 'fetch',
                digest: layer.digest,
                size: layer.size,
                what: 'layer',
                action: offset ? 'resume' : 'start',
                offset,
              });
              return registry.blob(ref, layer.digest, {
                offset,
                size: layer.size,
                signal: opts.signal,
                onBytes: (n) => {
                  done += n;
                  const now = Date.now();
                  if (now - lastReport >= 100 || done === layer.size) {
                    lastReport = now;
                    progress({ kind: 'bytes', digest: layer.digest, done, size: layer.size });
                  }
                },
              });
            },
          },
          { ...call, signal: opts.signal },
        );
      // A connection that dropped mid-layer after bytes arrived is resumed from containerd's offset (Range), a few
      // times: the ingest lives under this pull's lease, which a failed pull deletes, so a later pull starts over.
      let r: Awaited<ReturnType<typeof write>>;
      for (let attempt = 1; ; attempt++) {
        const before = done;
        try {
          r = await write();
          break;
        } catch (err) {
          const corrupt = err instanceof RegistryError && err.code === 'DIGEST_INVALID';
          if (attempt >= LAYER_ATTEMPTS || done <= before || corrupt || opts.signal?.aborted) throw err;
        }
      }
      if (r.existed) progress({ kind: 'fetch', digest: layer.digest, size: layer.size, what: 'layer', action: 'present' });
      else progress({ kind: 'fetched', digest: layer.digest, size: layer.size });
    };
    const queue = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
    const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 3, queue.length)) }, async () => {
      for (let l = queue.shift(); l; l = queue.shift()) await fetchLayer(l);
    });
    const results = await Promise.allSettled(workers);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    const chain = await labelAndUnpack(client, ns, {
      snapshotter,
      leaseId: lease.id,
      call,
      label,
      what: `image ${ref.name}`,
      manifestDigest: manifestDesc.digest,
      manifest,
      config,
      unpack: true,
      progress,
    });

    const target = { media_type: root.mediaType, digest: root.digest, size: root.size };
    await client.images.put(ns, { name: ref.name, labels: { ...(opts.labels ?? {}) }, target }, call);
    progress({ kind: 'image', name: ref.name, digest: root.digest, action: 'stored' });
    return {
      name: ref.name,
      digest: root.digest,
      size: root.size,
      mediaType: root.mediaType,
      manifestDigest: manifestDesc.digest,
      chainId: chain,
      platform: formatPlatform(platform),
    };
  } finally {
    try {
      await client.leases.delete(ns, lease.id, false, { timeoutMs: 10_000 });
      progress({ kind: 'lease', id: lease.id, action: 'deleted' });
    } catch {
      // expires by itself
    }
  }
}
