// The busybox test image, built without a registry or image tools: Debian's busybox-static packed as an OCI
// image-layout archive that `ctr images import` and `kuke image load` accept. Byte-reproducible: the layer and
// the outer archive come from the deterministic tar writer, gzip has no name or mtime, and JSON keys are fixed.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { writeTar, type TarWriteEntry } from './tar-writer';

export const BUSYBOX_IMAGE_REF = 'docker.io/kukeon/busybox:test';
export const BUSYBOX_BINARY = '/bin/busybox';
export const BUSYBOX_ARCHIVE_NAME = 'busybox-oci.tar';

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface BusyboxOciImage {
  /** The OCI image-layout archive (a tar). */
  archive: Buffer;
  ref: string;
  /** The tag part of `ref` (`org.opencontainers.image.ref.name`). */
  tag: string;
  architecture: string;
  manifestDigest: string;
  configDigest: string;
  /** Digest of the gzipped layer blob. */
  layerDigest: string;
  /** Digest of the uncompressed layer (`rootfs.diff_ids[0]`, also the chain id of a one-layer image). */
  diffId: string;
  /** Number of entries in the layer tar. */
  layerEntries: number;
}

const sha256 = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Node's process.arch as an OCI platform architecture. */
export function ociArchitecture(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  const out = map[arch];
  if (!out) throw new Error(`no OCI architecture known for process.arch "${arch}"`);
  return out;
}

/** The tag of an image reference: what follows the last ':' after the last '/', else `latest`. */
export function refTag(ref: string): string {
  const at = ref.indexOf('@');
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  return colon > slash ? name.slice(colon + 1) : 'latest';
}

/** The rootfs entries: busybox, one relative symlink per applet, /etc/passwd, /etc/group and the usual empty dirs. */
function rootfsEntries(busybox: Buffer): TarWriteEntry[] {
  const applets = execFileSync(BUSYBOX_BINARY, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim().replace(/^\/+/, ''))
    .filter((s) => s !== '' && s !== 'bin/busybox');
  const dirs = new Map<string, number>([
    ['bin', 0o755],
    ['dev', 0o755],
    ['etc', 0o755],
    ['proc', 0o755],
    ['root', 0o700],
    ['run', 0o755],
    ['sys', 0o755],
    ['tmp', 0o1777],
  ]);
  const entries: TarWriteEntry[] = [];
  const seen = new Set<string>();
  for (const applet of applets) {
    if (seen.has(applet)) continue;
    seen.add(applet);
    for (let d = path.posix.dirname(applet); d !== '.'; d = path.posix.dirname(d)) if (!dirs.has(d)) dirs.set(d, 0o755);
    entries.push({ type: 'symlink', name: applet, linkname: path.posix.relative(path.posix.dirname(applet), 'bin/busybox') });
  }
  for (const [p, mode] of dirs) entries.push({ type: 'directory', name: p, mode });
  entries.push(
    { type: 'file', name: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'file', name: 'etc/passwd', data: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' },
    { type: 'file', name: 'etc/group', data: 'root:x:0:\nnogroup:x:65534:\n' },
  );
  return entries;
}

/** JSON with a trailing newline; key order is the object's (fixed here), so bytes are stable. */
const json = (v: unknown): Buffer => Buffer.from(`${JSON.stringify(v)}\n`, 'utf8');

/** Builds the image and returns the archive with its digests. */
export async function buildBusyboxOciImage(ref: string = BUSYBOX_IMAGE_REF): Promise<BusyboxOciImage> {
  const busybox = await fs.promises.readFile(BUSYBOX_BINARY);
  const rootfs = rootfsEntries(busybox);
  const layer = writeTar(rootfs, { sorted: true });
  const diffId = sha256(layer);
  const gz = zlib.gzipSync(layer, { level: 9 });
  const layerDigest = sha256(gz);
  const architecture = ociArchitecture();

  const config = json({
    architecture,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [diffId] },
  });
  const configDigest = sha256(config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: { mediaType: MEDIA_TYPES.config, digest: configDigest, size: config.length },
    layers: [{ mediaType: MEDIA_TYPES.layer, digest: layerDigest, size: gz.length }],
  });
  const manifestDigest = sha256(manifest);
  const tag = refTag(ref);
  const index = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: MEDIA_TYPES.manifest,
        digest: manifestDigest,
        size: manifest.length,
        platform: { architecture, os: 'linux' },
        annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  });

  const blob = (digest: string, data: Buffer): TarWriteEntry => ({
    type: 'file',
    name: `blobs/sha256/${digest.slice('sha256:'.length)}`,
    data,
  });
  const archive = writeTar(
    [
      { type: 'directory', name: 'blobs' },
      { type: 'directory', name: 'blobs/sha256' },
      blob(layerDigest, gz),
      blob(configDigest, config),
      blob(manifestDigest, manifest),
      { type: 'file', name: 'index.json', data: index },
      { type: 'file', name: 'oci-layout', data: json({ imageLayoutVersion: '1.0.0' }) },
    ],
    { sorted: true },
  );
  return { archive, ref, tag, architecture, manifestDigest, configDigest, layerDigest, diffId, layerEntries: rootfs.length };
}

/** The OCI image-layout archive of the busybox test image. */
export async function buildBusyboxOci(ref: string = BUSYBOX_IMAGE_REF): Promise<Buffer> {
  return (await buildBusyboxOciImage(ref)).archive;
}

const built = new Map<string, Promise<BusyboxOciImage>>();
const written = new Map<string, { promise: Promise<string>; settled: boolean }>();

/** The image, built once per process and reference. */
export function cachedBusyboxOciImage(ref: string = BUSYBOX_IMAGE_REF): Promise<BusyboxOciImage> {
  let p = built.get(ref);
  if (!p) {
    p = buildBusyboxOciImage(ref);
    built.set(ref, p);
    p.catch(() => built.delete(ref));
  }
  return p;
}

/**
 * Writes the archive to `<dir>/busybox-oci.tar` (`<dir>/busybox-oci-<12 hex of sha256(ref)>.tar` for another reference) and
 * returns its path. Built once per process and reference, written once per directory.
 */
export function buildBusyboxOciFile(dir: string, ref: string = BUSYBOX_IMAGE_REF): Promise<string> {
  const file = path.resolve(dir, ref === BUSYBOX_IMAGE_REF ? BUSYBOX_ARCHIVE_NAME : `busybox-oci-${sha256(ref).slice(7, 19)}.tar`);
  const key = `${file}\0${ref}`;
  const known = written.get(key);
  // Reuse the write in progress, or the finished one while its file is still there.
  if (known && (!known.settled || fs.existsSync(file))) return known.promise;
  const entry = {
    settled: false,
    promise: (async () => {
      const image = await cachedBusyboxOciImage(ref);
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.writeFile(file, image.archive);
      return file;
    })(),
  };
  written.set(key, entry);
  entry.promise.then(
    () => (entry.settled = true),
    () => written.delete(key),
  );
  return entry.promise;
}
