// Imports an OCI image-layout archive (a tar holding `oci-layout`, `index.json` and `blobs/<alg>/<hex>`) into
// containerd without a registry and without ctr:
//   1. every blob of the archive goes into the content store (blobs containerd already has are not sent again);
//   2. the garbage-collection labels containerd's own importer and unpacker set are set with Content.Update:
//      an index references its manifests (`containerd.io/gc.ref.content.m.<i>`), a manifest its config
//      (`containerd.io/gc.ref.content.config`) and layers (`containerd.io/gc.ref.content.l.<i>`), a layer blob
//      records its diff id (`containerd.io/uncompressed`), and the config keeps the unpacked snapshot chain
//      (`containerd.io/gc.ref.snapshot.<snapshotter>` = chain id);
//   3. the layers are unpacked into the snapshotter (Prepare → Diff.Apply → Commit under the chain id);
//   4. an image is created (or updated) per named entry of index.json, targeting that entry's descriptor.
// All of it happens under a lease (expiring after an hour if the process dies), deleted at the end, so the
// garbage collector never takes half-made state and collects whatever an aborted import left behind.

import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { CallOptions, ContainerdClient, Descriptor, Labels } from '../grpc/containerd-client';
import { isAlreadyExists, isNotFound } from '../grpc/status-codes';
import { readTarStream } from './tar-reader';
import type { TarStreamEntry } from './tar-reader';

export const MEDIA_TYPES = {
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
export const OCI_REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const LABEL_UNCOMPRESSED = 'containerd.io/uncompressed';
export const LABEL_GC_REF_CONFIG = 'containerd.io/gc.ref.content.config';
export const gcSnapshotLabel = (snapshotter: string): string => `containerd.io/gc.ref.snapshot.${snapshotter}`;

const isIndexType = (mt: string): boolean => mt === MEDIA_TYPES.ociIndex || mt === MEDIA_TYPES.dockerManifestList;
const isManifestType = (mt: string): boolean => mt === MEDIA_TYPES.ociManifest || mt === MEDIA_TYPES.dockerManifest;

/** Blobs up to this size are kept in memory while importing (manifests, configs, indexes). */
const SMALL_BLOB = 4 << 20;

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

export interface OciIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface OciManifest {
  schemaVersion: number;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

/** The `config` object of an image config: what a container of the image runs. */
export interface ImageRunConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  [key: string]: unknown;
}

export interface OciImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: ImageRunConfig;
  rootfs: { type: string; diff_ids: string[] };
  [key: string]: unknown;
}

export interface ImportPlatform {
  os: 'linux';
  architecture: string;
  variant?: string;
}

export type ImportProgress =
  | { kind: 'lease'; id: string; action: 'created' | 'deleted' }
  | { kind: 'blob'; digest: string; size: number; action: 'written' | 'present' }
  | { kind: 'layer'; digest: string; chainId: string; action: 'unpacked' | 'present' }
  | { kind: 'image'; name: string; digest: string; action: 'stored' };

export interface ImportOciArchiveOptions {
  /** Snapshotter to unpack into (default `overlayfs`). */
  snapshotter?: string;
  /** Labels set on every image created or updated. */
  labels?: Labels;
  /** The platform to pick from a manifest list (default: this host's). */
  platform?: ImportPlatform;
  /** Unpack the layers into the snapshotter (default true). */
  unpack?: boolean;
  /** Expiry of the import lease in case the process dies (default one hour). */
  leaseExpireMs?: number;
  /** Deadline per containerd call (default: the client's). */
  timeoutMs?: number;
  onProgress?: (event: ImportProgress) => void;
}

export interface ImportedImage {
  name: string;
  /** The image target's digest (the manifest, or the index for a manifest list). */
  digest: string;
  /** The image target's size. */
  size: number;
  mediaType: string;
  /** The unpacked chain id for the selected platform ('' when not unpacked). */
  chainId: string;
}

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

/** This host's platform in OCI terms (Node's `x64` is `amd64`). */
export function hostPlatform(): ImportPlatform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  if (architecture === 'arm') {
    const v = (process.config.variables as { arm_version?: string | number }).arm_version;
    return { os: 'linux', architecture, variant: v ? `v${v}` : 'v7' };
  }
  return { os: 'linux', architecture };
}

function normalizeArch(arch: string, variant = ''): [string, string] {
  const a = { x86_64: 'amd64', x86: '386', i386: '386', aarch64: 'arm64', armhf: 'arm', armel: 'arm' }[arch] ?? arch;
  let v = variant;
  if (a === 'arm64' && v === 'v8') v = '';
  if (arch === 'armhf') v = v || 'v7';
  if (arch === 'armel') v = v || 'v6';
  return [a, v];
}

/** Whether an image's platform can run on `want` (os and architecture equal; variants equal when both say one). */
export function platformMatches(
  want: { os: string; architecture: string; variant?: string },
  have: { os?: string; architecture?: string; variant?: string } | undefined,
): boolean {
  if (!have?.os || !have.architecture) return false;
  if (have.os !== want.os) return false;
  const [wa, wv] = normalizeArch(want.architecture, want.variant);
  const [ha, hv] = normalizeArch(have.architecture, have.variant);
  if (wa !== ha) return false;
  return !wv || !hv || wv === hv;
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
}

/** The chain ids of a layer stack: `chain[0] = diff[0]`, `chain[i] = sha256(chain[i-1] + " " + diff[i])`. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? sha256Digest(`${out[out.length - 1]} ${d}`) : d);
  return out;
}

/** The chain id of the whole stack ('' for no layers). */
export function chainId(diffIds: string[]): string {
  return diffIds.reduce((chain, d) => (chain ? sha256Digest(`${chain} ${d}`) : d), '');
}

function toDescriptor(d: OciDescriptor): Descriptor {
  return { media_type: d.mediaType, digest: d.digest, size: d.size };
}

function parseJson<T>(buf: Buffer, what: string): T {
  try {
    return JSON.parse(buf.toString('utf8')) as T;
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function randomPart(): string {
  return crypto.randomBytes(6).toString('hex');
}

type ByteSource = NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array>;

const toBuffer = (v: Buffer | Uint8Array | string): Buffer =>
  Buffer.isBuffer(v) ? v : typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);

const isGzip = (b: Buffer) => b[0] === 0x1f && b[1] === 0x8b;
const isZstd = (b: Buffer) => b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd;
/** Node's zstd (22.15 and later); absent on Node 20, where a zstd layer cannot be read here. */
const zstd = zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream; zstdDecompressSync?: (b: Buffer) => Buffer };

function noZstd(): never {
  throw new Error(`the layer is zstd-compressed, which needs Node 22.15 or later to read (this is Node ${process.versions.node})`);
}

/**
 * The archive's bytes, decompressed when it starts with the gzip or zstd magic (containerd unpacks either; kukeon
 * reads layers itself for user names and volume copy-up). Closes the source when abandoned early.
 */
export async function* archiveBytes(archive: Buffer | ByteSource): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(archive)) {
    if (isZstd(archive)) yield (zstd.zstdDecompressSync ?? noZstd)(archive);
    else yield isGzip(archive) ? zlib.gunzipSync(archive) : archive;
    return;
  }
  const it = (archive as AsyncIterable<Buffer | Uint8Array>)[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    if (first.done) return;
    const head = toBuffer(first.value);
    const rest = async function* (): AsyncGenerator<Buffer> {
      yield head;
      for (let r = await it.next(); !r.done; r = await it.next()) yield toBuffer(r.value);
    };
    if (isGzip(head) || isZstd(head)) {
      const inflate = isGzip(head) ? zlib.createGunzip() : (zstd.createZstdDecompress ?? noZstd)();
      const compressed = Readable.from(rest());
      const plain = compressed.pipe(inflate);
      try {
        for await (const c of plain) yield c as Buffer;
      } finally {
        compressed.destroy();
        (inflate as unknown as { destroy(): void }).destroy();
      }
    } else yield* rest();
  } finally {
    await it.return?.();
  }
}

/** Reads blobs for manifest walking: from memory when the archive had them, else from the content store. */
type BlobReader = (digest: string, what: string) => Promise<Buffer>;

/**
 * Follows `desc` to a single manifest: an index (manifest list) is resolved to its entry for `platform`,
 * recursively. Calls `onIndex` for every index passed through.
 */
async function resolveManifest(
  read: BlobReader,
  desc: OciDescriptor,
  platform: ImportPlatform,
  what: string,
  onIndex?: (digest: string, index: OciIndex) => Promise<void>,
): Promise<{ desc: OciDescriptor; manifest: OciManifest }> {
  let current = desc;
  for (let depth = 0; depth < 8; depth++) {
    const raw = await read(current.digest, what);
    const doc = parseJson<Partial<OciIndex & OciManifest>>(raw, `${what} ${current.digest}`);
    const mt = current.mediaType || doc.mediaType || (doc.manifests ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
    if (isIndexType(mt) || (!isManifestType(mt) && Array.isArray(doc.manifests))) {
      const index = doc as OciIndex;
      if (!Array.isArray(index.manifests)) throw new Error(`${what}: index ${current.digest} has no manifests`);
      if (onIndex) await onIndex(current.digest, index);
      const pick = index.manifests.find((m) => platformMatches(platform, m.platform));
      if (!pick) {
        const have = index.manifests
          .map((m) =>
            m.platform ? `${m.platform.os}/${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}` : '?',
          )
          .join(', ');
        throw new Error(
          `${what}: no manifest for ${platform.os}/${platform.architecture} in index ${current.digest} (has: ${have || 'none'})`,
        );
      }
      current = pick;
      continue;
    }
    const manifest = doc as OciManifest;
    if (!manifest.config || !Array.isArray(manifest.layers)) throw new Error(`${what}: ${current.digest} (${mt}) is not an image manifest`);
    return { desc: { ...current, mediaType: mt }, manifest };
  }
  throw new Error(`${what}: indexes nested too deeply`);
}

/**
 * Imports an OCI image-layout archive (plain or gzipped tar, in memory or as a stream) into `namespace` and
 * unpacks it; returns one entry per image created or updated.
 */
export async function importOciArchive(
  client: ContainerdClient,
  namespace: string,
  archive: Buffer | NodeJS.ReadableStream | AsyncIterable<Buffer | Uint8Array>,
  options: ImportOciArchiveOptions = {},
): Promise<ImportedImage[]> {
  const snapshotter = options.snapshotter ?? 'overlayfs';
  const platform = options.platform ?? hostPlatform();
  const progress = options.onProgress ?? (() => undefined);
  const ns = namespace;

  const lease = await client.leases.create(
    ns,
    { id: `kukeon-import-${randomPart()}`, expireInMs: options.leaseExpireMs ?? 3600_000 },
    { timeoutMs: options.timeoutMs },
  );
  progress({ kind: 'lease', id: lease.id, action: 'created' });
  const call: CallOptions = { lease: lease.id, timeoutMs: options.timeoutMs };
  try {
    // ---- 1. blobs into the content store ----
    const small = new Map<string, Buffer>();
    const present = new Set<string>();
    let layout: { imageLayoutVersion?: string } | undefined;
    let index: OciIndex | undefined;
    let dockerManifest: DockerArchiveEntry[] | undefined;
    const dockerFiles = new Map<string, { digest: string; size: number; gzip: boolean }>();
    const dockerLinks = new Map<string, string>();
    for await (const entry of readTarStream(archiveBytes(archive))) {
      if (entry.type === 'symlink' || entry.type === 'hardlink')
        dockerLinks.set(
          entry.name,
          entry.type === 'symlink' ? path.posix.join(path.posix.dirname(entry.name), entry.linkname) : entry.linkname,
        );
      if (entry.type !== 'file') continue;
      if (entry.name === 'oci-layout') {
        layout = parseJson(await entry.buffer(), 'oci-layout');
        continue;
      }
      if (entry.name === 'index.json') {
        index = parseJson(await entry.buffer(), 'index.json');
        continue;
      }
      if (entry.name === 'manifest.json') {
        dockerManifest = parseJson(await entry.buffer(), 'manifest.json');
        continue;
      }
      const m = /^blobs\/([a-z0-9]+(?:[+._-][a-z0-9]+)*)\/([a-zA-Z0-9=_-]+)$/.exec(entry.name);
      if (!m) {
        // a `docker save` archive names its files by path (`<hex>.json`, `<id>/layer.tar`): store each by its digest
        if (/\.(json|tar|tar\.gz)$/.test(entry.name) && entry.name !== 'repositories') {
          const file = await storeUnnamed(client, ns, entry, call, small);
          dockerFiles.set(entry.name, file);
          present.add(file.digest);
          progress({ kind: 'blob', digest: file.digest, size: file.size, action: file.existed ? 'present' : 'written' });
        }
        continue;
      }
      const digest = `${m[1]}:${m[2]}`;
      let data: Buffer | undefined;
      if (entry.size <= SMALL_BLOB) {
        data = await entry.buffer();
        if (m[1] === 'sha256' && sha256Digest(data) !== digest) throw new Error(`archive blob ${entry.name} does not match its digest`);
        small.set(digest, data);
      }
      if (await client.content.stat(ns, digest, call)) {
        // already here: hold it in our lease until the image references it
        await client.leases.addResource(ns, lease.id, { type: 'content', id: digest }, call);
        progress({ kind: 'blob', digest, size: entry.size, action: 'present' });
      } else {
        const r = await client.content.write(
          ns,
          { digest, size: entry.size, data: data ?? entry.body(), ref: `kukeon-import-${m[2].slice(0, 32)}-${randomPart()}` },
          call,
        );
        progress({ kind: 'blob', digest, size: entry.size, action: r.existed ? 'present' : 'written' });
      }
      present.add(digest);
    }
    if (!index && Array.isArray(dockerManifest) && dockerManifest.length > 0) {
      index = await dockerArchiveIndex(client, ns, dockerManifest, dockerFiles, dockerLinks, small, call);
      layout = { imageLayoutVersion: '1.0.0' };
      for (const e of index.manifests) present.add(e.digest);
    }
    if (!index)
      throw new Error('not an OCI image layout archive (index.json is missing) nor a docker save archive (manifest.json is missing)');
    if (!layout) throw new Error('not an OCI image layout archive: oci-layout is missing');
    if (!Array.isArray(index.manifests)) throw new Error('index.json has no manifests array');

    const read: BlobReader = async (digest, what) => {
      const b = small.get(digest);
      if (b) return b;
      try {
        const data = await client.content.read(ns, digest, {}, call);
        small.set(digest, data);
        return data;
      } catch (err) {
        if (isNotFound(err)) throw new Error(`${what}: blob ${digest} is neither in the archive nor in containerd's content store`);
        throw err;
      }
    };
    const requirePresent = async (digest: string, what: string): Promise<void> => {
      if (present.has(digest)) return;
      if (!(await client.content.stat(ns, digest, call)))
        throw new Error(`${what}: blob ${digest} is neither in the archive nor in containerd's content store`);
      await client.leases.addResource(ns, lease.id, { type: 'content', id: digest }, call);
      present.add(digest);
    };
    const label = contentLabeler(client, ns, call);

    // ---- 2..4. per named entry: GC labels, unpack, image ----
    const out: ImportedImage[] = [];
    for (const entry of index.manifests) {
      const name = entry.annotations?.[IMAGE_NAME_ANNOTATION] ?? entry.annotations?.[OCI_REF_NAME_ANNOTATION];
      if (!name) continue;
      const what = `image ${name}`;
      await requirePresent(entry.digest, what);
      const { desc, manifest } = await resolveManifest(read, entry, platform, what, async (digest, idx) => {
        await label(digest, indexGcLabels(idx));
      });
      await requirePresent(desc.digest, what);
      await requirePresent(manifest.config.digest, what);
      for (const l of manifest.layers) await requirePresent(l.digest, what);
      const config = parseJson<OciImageConfig>(await read(manifest.config.digest, what), `${what}: config ${manifest.config.digest}`);
      const chain = await labelAndUnpack(client, ns, {
        snapshotter,
        leaseId: lease.id,
        call,
        label,
        what,
        manifestDigest: desc.digest,
        manifest,
        config,
        unpack: options.unpack !== false,
        progress,
      });

      const target = toDescriptor({ ...entry, mediaType: entry.mediaType || desc.mediaType });
      await client.images.put(ns, { name, labels: options.labels ?? {}, target }, call);
      progress({ kind: 'image', name, digest: entry.digest, action: 'stored' });
      out.push({ name, digest: entry.digest, size: Number(entry.size), mediaType: target.media_type, chainId: chain });
    }
    if (out.length === 0)
      throw new Error(`index.json names no image (no ${IMAGE_NAME_ANNOTATION} or ${OCI_REF_NAME_ANNOTATION} annotation)`);
    return out;
  } finally {
    try {
      await client.leases.delete(ns, lease.id, false, { timeoutMs: options.timeoutMs });
      progress({ kind: 'lease', id: lease.id, action: 'deleted' });
    } catch {
      // the lease expires by itself (containerd.io/gc.expire)
    }
  }
}

/** Sets content labels, each (digest, labels) pair once. */
export function contentLabeler(client: ContainerdClient, ns: string, call: CallOptions): (digest: string, labels: Labels) => Promise<void> {
  const labelled = new Set<string>();
  return async (digest, labels) => {
    const key = `${digest} ${JSON.stringify(labels)}`;
    if (labelled.has(key) || Object.keys(labels).length === 0) return;
    await client.content.update(ns, digest, labels, undefined, call);
    labelled.add(key);
  };
}

/** The GC labels of an index: it references each of its manifests. */
export function indexGcLabels(idx: OciIndex): Labels {
  const labels: Labels = {};
  for (const [i, m] of idx.manifests.entries()) labels[`containerd.io/gc.ref.content.m.${i}`] = m.digest;
  return labels;
}

/** The GC labels of a manifest: it references its config and layers. */
export function manifestGcLabels(manifest: OciManifest): Labels {
  const labels: Labels = { [LABEL_GC_REF_CONFIG]: manifest.config.digest };
  for (const [i, l] of manifest.layers.entries()) labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest;
  return labels;
}

/**
 * What import and pull do once a manifest's blobs are in the content store: the manifest's GC labels, the
 * layers unpacked into the snapshotter (a chain already committed is only added to the lease), each layer's
 * `containerd.io/uncompressed` label and the config's snapshot label. Returns the chain id ('' without unpack).
 * A layer is unpacked under a random key and committed under its chain id only when complete, so an
 * interrupted unpack leaves nothing a later one trusts.
 */
export async function labelAndUnpack(
  client: ContainerdClient,
  ns: string,
  o: {
    snapshotter: string;
    leaseId: string;
    call: CallOptions;
    label: (digest: string, labels: Labels) => Promise<void>;
    what: string;
    manifestDigest: string;
    manifest: OciManifest;
    config: OciImageConfig;
    unpack: boolean;
    progress: (e: ImportProgress) => void;
  },
): Promise<string> {
  const { snapshotter, call, label, what, manifest, config, progress } = o;
  await label(o.manifestDigest, manifestGcLabels(manifest));
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length)
    throw new Error(`${what}: the config lists ${diffIds.length} diff ids for ${manifest.layers.length} layers`);
  let chain = '';
  if (!o.unpack) return chain;
  for (let i = 0; i < manifest.layers.length; i++) {
    const layer = manifest.layers[i];
    const parent = chain;
    chain = chain ? sha256Digest(`${chain} ${diffIds[i]}`) : diffIds[i];
    if (await client.snapshots.tryStat(ns, snapshotter, chain, call)) {
      await client.leases.addResource(ns, o.leaseId, { type: `snapshots/${snapshotter}`, id: chain }, call);
      progress({ kind: 'layer', digest: layer.digest, chainId: chain, action: 'present' });
    } else {
      await unpackLayer(client, ns, snapshotter, layer, diffIds[i], parent, chain, call, what);
      progress({ kind: 'layer', digest: layer.digest, chainId: chain, action: 'unpacked' });
    }
    await label(layer.digest, { [LABEL_UNCOMPRESSED]: diffIds[i] });
  }
  if (chain) await label(manifest.config.digest, { [gcSnapshotLabel(snapshotter)]: chain });
  return chain;
}

/** One image of a `docker save` archive's manifest.json. */
interface DockerArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * Stores a file whose digest the archive does not say: small ones from memory, large ones spooled to a
 * temporary file while hashed, then written from it.
 */
async function storeUnnamed(
  client: ContainerdClient,
  ns: string,
  entry: TarStreamEntry,
  call: CallOptions,
  small: Map<string, Buffer>,
): Promise<{ digest: string; size: number; gzip: boolean; existed: boolean }> {
  if (entry.size <= SMALL_BLOB) {
    const data = await entry.buffer();
    const digest = sha256Digest(data);
    small.set(digest, data);
    const existed = !!(await client.content.stat(ns, digest, call));
    if (existed) await client.leases.addResource(ns, call.lease!, { type: 'content', id: digest }, call);
    else await client.content.write(ns, { digest, data }, call);
    return { digest, size: data.length, gzip: data[0] === 0x1f && data[1] === 0x8b, existed };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-load-'));
  try {
    const file = path.join(dir, 'blob');
    const hash = crypto.createHash('sha256');
    const out = fs.createWriteStream(file);
    let head: Buffer | undefined;
    for await (const c of entry.body()) {
      const b = toBuffer(c as Buffer);
      head ??= b.subarray(0, 2);
      hash.update(b);
      if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const digest = `sha256:${hash.digest('hex')}`;
    const existed = !!(await client.content.stat(ns, digest, call));
    if (existed) await client.leases.addResource(ns, call.lease!, { type: 'content', id: digest }, call);
    else await client.content.write(ns, { digest, size: entry.size, data: fs.createReadStream(file) as AsyncIterable<Buffer> }, call);
    return { digest, size: entry.size, gzip: !!head && head[0] === 0x1f && head[1] === 0x8b, existed };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An index for a `docker save` archive: an OCI manifest per image (written to the store), named by its RepoTags. */
async function dockerArchiveIndex(
  client: ContainerdClient,
  ns: string,
  entries: DockerArchiveEntry[],
  files: Map<string, { digest: string; size: number; gzip: boolean }>,
  links: Map<string, string>,
  small: Map<string, Buffer>,
  call: CallOptions,
): Promise<OciIndex> {
  if (!Array.isArray(entries)) throw new Error('manifest.json of a docker save archive is not a list');
  const file = (name: string, what: string) => {
    let n = path.posix.normalize(name);
    for (let i = 0; i < 8 && !files.has(n) && links.has(n); i++) n = path.posix.normalize(links.get(n)!);
    const f = files.get(n);
    if (!f) throw new Error(`docker save archive: ${what} ${name} is not in the archive`);
    return f;
  };
  const manifests: OciDescriptor[] = [];
  for (const e of entries) {
    const config = file(e.Config, 'config');
    const manifest: OciManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
      layers: (e.Layers ?? []).map((l) => {
        const f = file(l, 'layer');
        return { mediaType: f.gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer, digest: f.digest, size: f.size };
      }),
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = sha256Digest(bytes);
    small.set(digest, bytes);
    if (await client.content.stat(ns, digest, call))
      await client.leases.addResource(ns, call.lease!, { type: 'content', id: digest }, call);
    else await client.content.write(ns, { digest, data: bytes }, call);
    for (const tag of e.RepoTags ?? []) {
      manifests.push({
        mediaType: MEDIA_TYPES.ociManifest,
        digest,
        size: bytes.length,
        annotations: { [IMAGE_NAME_ANNOTATION]: normalizeRepoTag(tag) },
      });
    }
  }
  return { schemaVersion: 2, manifests };
}

/** `busybox:latest` → `docker.io/library/busybox:latest`, as docker would name it. */
function normalizeRepoTag(tag: string): string {
  const { normalizeName } = require('./reference') as typeof import('./reference');
  return normalizeName(tag);
}

async function unpackLayer(
  client: ContainerdClient,
  ns: string,
  snapshotter: string,
  layer: OciDescriptor,
  diffId: string,
  parent: string,
  chain: string,
  call: CallOptions,
  what: string,
): Promise<void> {
  const key = `kukeon-extract-${randomPart()}-${chain}`;
  const mounts = await client.snapshots.prepare(ns, snapshotter, key, parent, {}, call);
  try {
    const applied = await client.diff.apply(ns, toDescriptor(layer), mounts, call);
    if (applied.digest !== diffId)
      throw new Error(`${what}: layer ${layer.digest} extracts to ${applied.digest}, the config says ${diffId}`);
    try {
      await client.snapshots.commit(ns, snapshotter, chain, key, {}, call);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await client.snapshots.remove(ns, snapshotter, key, call).catch(() => undefined); // someone else unpacked it meanwhile
    }
  } catch (err) {
    await client.snapshots.remove(ns, snapshotter, key, { timeoutMs: 10_000 }).catch(() => undefined);
    throw err;
  }
}

export interface ImageChainInfo {
  /** The chain id of the image's layers for the platform: the parent to prepare a container snapshot on. */
  chainId: string;
  diffIds: string[];
  /** The `config` object of the image config (Entrypoint, Cmd, Env, WorkingDir, User, ...); {} when absent. */
  config: ImageRunConfig;
  /** The whole image config document. */
  imageConfig: OciImageConfig;
  /** The image's target (the manifest, or the index for a manifest list). */
  target: Descriptor;
  manifestDigest: string;
  configDigest: string;
}

/**
 * Reads an image's manifest (resolving a manifest list to `platform`, default this host's) and config from the
 * content store and computes the chain id its snapshots are committed under.
 */
export async function imageChainId(
  client: ContainerdClient,
  namespace: string,
  imageName: string,
  platform: ImportPlatform = hostPlatform(),
  opts: CallOptions = {},
): Promise<ImageChainInfo> {
  const image = await client.images.get(namespace, imageName, opts);
  const what = `image ${imageName}`;
  const read: BlobReader = async (digest) => {
    try {
      return await client.content.read(namespace, digest, {}, opts);
    } catch (err) {
      if (isNotFound(err)) throw new Error(`${what}: blob ${digest} is missing from the content store`);
      throw err;
    }
  };
  const target = image.target;
  const { desc, manifest } = await resolveManifest(
    read,
    { mediaType: target.media_type, digest: target.digest, size: Number(target.size) },
    platform,
    what,
  );
  const imageConfig = parseJson<OciImageConfig>(await read(manifest.config.digest, what), `${what}: config ${manifest.config.digest}`);
  const diffIds = imageConfig.rootfs?.diff_ids ?? [];
  return {
    chainId: chainId(diffIds),
    diffIds,
    config: imageConfig.config ?? {},
    imageConfig,
    target,
    manifestDigest: desc.digest,
    configDigest: manifest.config.digest,
  };
}
