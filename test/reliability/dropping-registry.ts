// A minimal OCI registry (plain HTTP on 127.0.0.1 inside the harness's netns) serving one image from memory
// blobs written to a directory, that drops the connection in the middle of a layer while its control file says
// `drop`: the headers promise the whole blob, half of it is sent, then the socket is destroyed. Every request
// is logged (method, path, Range) so a test can see a resumed pull. Started with startInNetns, ended by pid.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { readTar } from '../../plugins/containerd/image/tar-reader';
import type { E2EHarness } from '../e2e/harness';
import { cachedBusyboxOciImage } from '../helpers/busybox-oci';
import { freePort, startInNetns, waitListening, type NetnsProcess } from '../helpers/registry';

const SERVER = `
const http = require('http'), fs = require('fs'), path = require('path');
const [port, dir] = process.argv.slice(2);
const log = (l) => fs.appendFileSync(path.join(dir, 'requests.log'), l + '\\n');
http.createServer((req, res) => {
  log(req.method + ' ' + req.url + ' ' + (req.headers.range || '-'));
  if (req.url === '/v2/' || req.url === '/v2') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{}'); }
  let m = /^\\/v2\\/(.+)\\/(manifests|blobs)\\/([^/]+)$/.exec(req.url);
  if (!m) { res.writeHead(404); return res.end(); }
  const [, , what, ref] = m;
  const digest = what === 'manifests' && !ref.startsWith('sha256:') ? fs.readFileSync(path.join(dir, 'tags', ref), 'utf8').trim() : ref;
  const file = path.join(dir, 'blobs', digest.replace('sha256:', ''));
  if (!fs.existsSync(file)) { res.writeHead(404); return res.end(); }
  const data = fs.readFileSync(file);
  const headers = { 'Docker-Content-Digest': digest, 'Content-Type': what === 'manifests' ? 'application/vnd.oci.image.manifest.v1+json' : 'application/octet-stream' };
  if (req.method === 'HEAD') { res.writeHead(200, { ...headers, 'Content-Length': data.length }); return res.end(); }
  let body = data, status = 200;
  const r = /^bytes=(\\d+)-$/.exec(req.headers.range || '');
  if (r && what === 'blobs') { body = data.subarray(Number(r[1])); status = 206; headers['Content-Range'] = 'bytes ' + r[1] + '-' + (data.length - 1) + '/' + data.length; }
  res.writeHead(status, { ...headers, 'Content-Length': body.length });
  const drop = fs.readFileSync(path.join(dir, 'control'), 'utf8').trim() === 'drop' && digest === fs.readFileSync(path.join(dir, 'layer'), 'utf8').trim();
  if (!drop) return res.end(body);
  res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => req.socket.destroy(), 50));
}).listen(Number(port), '127.0.0.1');
`;

export interface DroppingRegistry extends NetnsProcess {
  host: string;
  dropping(on: boolean): void;
  /** Logged requests: `METHOD URL RANGE`. */
  requests(): string[];
}

/** Serves `blobs` (digest -> bytes) with `tag` pointing at `manifestDigest`; `layerDigest` is the one it drops. */
export async function startDroppingRegistry(
  h: E2EHarness,
  dir: string,
  image: { blobs: Map<string, Buffer>; tag: string; manifestDigest: string; layerDigest: string },
): Promise<DroppingRegistry> {
  fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'tags'), { recursive: true });
  for (const [digest, data] of image.blobs) fs.writeFileSync(path.join(dir, 'blobs', digest.replace('sha256:', '')), data);
  fs.writeFileSync(path.join(dir, 'tags', image.tag), image.manifestDigest);
  fs.writeFileSync(path.join(dir, 'layer'), image.layerDigest);
  fs.writeFileSync(path.join(dir, 'control'), 'drop');
  fs.writeFileSync(path.join(dir, 'server.js'), SERVER);
  const port = freePort();
  const p = startInNetns(h, process.execPath, [path.join(dir, 'server.js'), String(port), dir], path.join(dir, 'server.log'));
  await waitListening(h, port).catch(async (e) => {
    await p.stop();
    throw e;
  });
  return {
    ...p,
    host: `127.0.0.1:${port}`,
    dropping: (on) => fs.writeFileSync(path.join(dir, 'control'), on ? 'drop' : 'serve'),
    requests: () => {
      try {
        return fs.readFileSync(path.join(dir, 'requests.log'), 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    },
  };
}

const digestOf = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/**
 * The test busybox image with a layer of its own (its tar with a unique padding block after the end): the
 * content store of this containerd already holds the plain one, and a present layer is never fetched.
 */
export async function uniqueBusybox(): Promise<{ blobs: Map<string, Buffer>; manifestDigest: string; layerDigest: string }> {
  const bb = await cachedBusyboxOciImage();
  const files = new Map<string, Buffer>(
    readTar(bb.archive)
      .filter((e) => e.type === 'file' && e.name.includes('blobs/sha256/'))
      .map((e) => [`sha256:${path.basename(e.name)}`, e.data!] as const),
  );
  const tar = Buffer.concat([zlib.gunzipSync(files.get(bb.layerDigest)!), Buffer.alloc(1024), crypto.randomBytes(512), Buffer.alloc(1024)]);
  const layer = zlib.gzipSync(tar, { level: 1 });
  const config = JSON.parse(files.get(bb.configDigest)!.toString('utf8'));
  config.rootfs.diff_ids = [digestOf(tar)];
  const configBlob = Buffer.from(JSON.stringify(config));
  const manifest = JSON.parse(files.get(bb.manifestDigest)!.toString('utf8'));
  manifest.config = { ...manifest.config, digest: digestOf(configBlob), size: configBlob.length };
  manifest.layers = [{ ...manifest.layers[0], digest: digestOf(layer), size: layer.length }];
  const manifestBlob = Buffer.from(JSON.stringify(manifest));
  const blobs = new Map<string, Buffer>([
    [digestOf(layer), layer],
    [digestOf(configBlob), configBlob],
    [digestOf(manifestBlob), manifestBlob],
  ]);
  return { blobs, manifestDigest: digestOf(manifestBlob), layerDigest: digestOf(layer) };
}
