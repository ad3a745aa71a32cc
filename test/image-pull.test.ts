// Unit tests of the pull path's pure parts and of the registry client against an injected fetch (no sockets):
// reference normalisation, WWW-Authenticate parsing, the manifest Accept header, --platform parsing and
// platform selection, the bearer-token and Basic flows, digest verification, Range resumes, the auth file.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  isLoopbackHost,
  manifestAcceptHeader,
  normalizeName,
  parsePlatform,
  parseReference,
  parseWwwAuthenticate,
  selectPlatform,
} from '../plugins/containerd/image/reference';
import { RegistryClient, RegistryError, credentialHost } from '../plugins/containerd/image/registry-client';
import { authFilePath, readAuthFile, writeAuthFile } from '../sdk/registry-auth';
import { ttyProgress } from '../src/cli/output/pull-progress';
import { tmpDir } from './helpers/tmp';

test('references normalise as docker does', () => {
  const cases: [string, string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'registry-1.docker.io', 'library/busybox'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'registry-1.docker.io', 'library/busybox'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'registry-1.docker.io', 'library/busybox'],
    ['docker.io/library/busybox:1.36', 'docker.io/library/busybox:1.36', 'registry-1.docker.io', 'library/busybox'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'registry-1.docker.io', 'library/busybox'],
    ['me/app', 'docker.io/me/app:latest', 'registry-1.docker.io', 'me/app'],
    ['localhost/x', 'localhost/x:latest', 'localhost', 'x'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000', 'x'],
    ['127.0.0.1:5000/x:tag', '127.0.0.1:5000/x:tag', '127.0.0.1:5000', 'x'],
    ['ghcr.io/a/b/c:v1.2-rc_3', 'ghcr.io/a/b/c:v1.2-rc_3', 'ghcr.io', 'a/b/c'],
    ['[::1]:5000/x', '[::1]:5000/x:latest', '[::1]:5000', 'x'],
  ];
  for (const [input, name, host, p] of cases) {
    const r = parseReference(input);
    assert.is(r.name, name, input);
    assert.is(r.apiHost, host, input);
    assert.is(r.path, p, input);
  }
  const d = `sha256:${'a'.repeat(64)}`;
  const byDigest = parseReference(`busybox@${d}`);
  assert.is(byDigest.name, `docker.io/library/busybox@${d}`);
  assert.is(byDigest.tag, undefined);
  assert.is(byDigest.digest, d);
  const both = parseReference(`127.0.0.1:5000/x:1@${d}`);
  assert.is(both.name, `127.0.0.1:5000/x:1@${d}`);
  assert.is(both.tag, '1');
  // a port is not a tag
  assert.is(parseReference('host:5000/x').tag, 'latest');
  for (const bad of ['', 'BusyBox', 'busybox@sha256:abc', 'a//b', 'busybox:', 'busybox:-x', 'UPPER.io/x:/']) {
    assert.throws(() => parseReference(bad), /invalid image reference/, bad);
  }
  assert.is(normalizeName('busybox'), 'docker.io/library/busybox:latest');
  assert.is(normalizeName('Not Valid'), 'Not Valid');
});

test('loopback hosts are recognised (plain HTTP allowed there)', () => {
  for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.1.2.3:80', '[::1]:5000', '::1'])
    assert.ok(isLoopbackHost(h), h);
  for (const h of ['registry-1.docker.io', '10.0.0.1:5000', 'localhost.example:5000', '128.0.0.1']) assert.not.ok(isLoopbackHost(h), h);
});

test('the manifest Accept header names OCI index/manifest and Docker list/schema 2', () => {
  const a = manifestAcceptHeader();
  for (const mt of [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
    'application/vnd.docker.distribution.manifest.v2+json',
  ]) {
    assert.ok(a.includes(mt), mt);
  }
  assert.not.ok(a.includes('manifest.v1+prettyjws'), 'no schema 1');
});

test('WWW-Authenticate challenges parse (quoted strings, escapes, several challenges)', () => {
  const [b] = parseWwwAuthenticate(
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"',
  );
  assert.equal(b, {
    scheme: 'bearer',
    params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' },
  });
  assert.equal(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  const two = parseWwwAuthenticate('Basic realm="a, b", Bearer realm="https://x/t", service=reg ,error="invalid_token"');
  assert.is(two.length, 2);
  assert.is(two[0].params.realm, 'a, b');
  assert.equal(two[1].params, { realm: 'https://x/t', service: 'reg', error: 'invalid_token' });
  assert.is(parseWwwAuthenticate('Bearer realm="say \\"hi\\""')[0].params.realm, 'say "hi"');
  assert.equal(parseWwwAuthenticate(''), []);
});

test('--platform parses; selection prefers the exact variant and skips attestations', () => {
  assert.equal(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  assert.equal(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.throws(() => parsePlatform('windows/amd64'), /only linux/);
  assert.throws(() => parsePlatform('linux//v7'), /invalid platform/);
  const m = (digest: string, architecture: string, variant?: string, os = 'linux') => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest,
    size: 1,
    platform: { os, architecture, variant },
  });
  const index = [
    m('att', 'unknown', undefined, 'unknown'),
    m('amd', 'amd64'),
    m('v6', 'arm', 'v6'),
    m('v7', 'arm', 'v7'),
    m('a64', 'arm64', 'v8'),
    m('s390', 's390x'),
  ];
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'amd64' })?.digest, 'amd');
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' })?.digest, 'v6');
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest, 'v7');
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'arm' })?.digest, 'v7');
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'arm64' })?.digest, 'a64');
  assert.is(selectPlatform(index, { os: 'linux', architecture: 'riscv64' }), undefined);
  assert.is(selectPlatform([m('att', 'unknown', undefined, 'unknown')], { os: 'linux', architecture: 'amd64' }), undefined);
});

test('credential hosts: every Docker Hub spelling means registry-1.docker.io', () => {
  for (const s of ['docker.io', 'index.docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io'])
    assert.is(credentialHost(s), 'registry-1.docker.io', s);
  assert.is(credentialHost('http://127.0.0.1:5000/'), '127.0.0.1:5000');
});

// ---- the registry client against a fake registry (a fetch function: no sockets) ----

const sha = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

interface Seen {
  url: string;
  auth?: string;
  range?: string;
  accept?: string;
}

function fakeRegistry(opts: {
  mode: 'bearer' | 'basic' | 'open';
  user?: string;
  pass?: string;
  blobs: Map<string, Buffer>;
  manifests: Map<string, { type: string; body: Buffer }>;
}) {
  const seen: Seen[] = [];
  const good = `Basic ${Buffer.from(`${opts.user}:${opts.pass}`).toString('base64')}`;
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const h = new Headers(init?.headers);
    seen.push({
      url: url.toString(),
      auth: h.get('authorization') ?? undefined,
      range: h.get('range') ?? undefined,
      accept: h.get('accept') ?? undefined,
    });
    if (url.pathname === '/token') {
      if (url.searchParams.get('service') !== 'test-registry') return new Response('bad service', { status: 400 });
      if (h.get('authorization') && h.get('authorization') !== good)
        return new Response(JSON.stringify({ details: 'wrong password' }), { status: 401 });
      if (!h.get('authorization') && opts.user) return new Response(JSON.stringify({ details: 'anonymous not allowed' }), { status: 401 });
      return Response.json({ token: `tok-${url.searchParams.getAll('scope').join('|')}` });
    }
    const authorised =
      opts.mode === 'open' ||
      (opts.mode === 'basic' && h.get('authorization') === good) ||
      (opts.mode === 'bearer' && h.get('authorization')?.startsWith('Bearer tok-repository:'));
    if (!authorised) {
      const challenge =
        opts.mode === 'bearer'
          ? 'Bearer realm="http://127.0.0.1:9/token",service="test-registry",scope="repository:x/y:pull"'
          : 'Basic realm="r"';
      return new Response(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }), {
        status: 401,
        headers: { 'WWW-Authenticate': challenge },
      });
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    if (!m) return new Response('', { status: 404 });
    if (m[2] === 'manifests') {
      const man = opts.manifests.get(m[3]);
      if (!man)
        return new Response(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }), { status: 404 });
      return new Response(man.body, { headers: { 'Content-Type': man.type, 'Docker-Content-Digest': sha(man.body) } });
    }
    const blob = opts.blobs.get(m[3]);
    if (!blob) return new Response(JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown' }] }), { status: 404 });
    const r = /^bytes=(\d+)-$/.exec(h.get('range') ?? '');
    if (r) return new Response(blob.subarray(Number(r[1])), { status: 206 });
    return new Response(blob);
  };
  return { fetch: f as typeof fetch, seen };
}

const manifestBody = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'x', digest: 'sha256:c', size: 1 },
    layers: [],
  }),
);

test('bearer flow: the 401 challenge leads to a token for service and scope, with basic credentials; cached after', async () => {
  const reg = fakeRegistry({
    mode: 'bearer',
    user: 'alice',
    pass: 's3cret',
    blobs: new Map(),
    manifests: new Map([['v1', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestBody }]]),
  });
  const c = new RegistryClient({
    fetch: reg.fetch,
    credentials: [{ username: 'alice', password: 's3cret', serverAddress: '127.0.0.1:5000' }],
  });
  const ref = parseReference('127.0.0.1:5000/x/y:v1');
  const m = await c.manifest(ref);
  assert.is(m.digest, sha(manifestBody));
  assert.is(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok(reg.seen[0].url.startsWith('http://127.0.0.1:5000/v2/x/y/manifests/v1'), 'plain HTTP to loopback');
  assert.is(reg.seen[0].accept, manifestAcceptHeader());
  const tokenReq = new URL(reg.seen[1].url);
  assert.is(tokenReq.searchParams.get('service'), 'test-registry');
  assert.equal(tokenReq.searchParams.getAll('scope'), ['repository:x/y:pull']);
  assert.ok(reg.seen[1].auth?.startsWith('Basic '));
  assert.ok(reg.seen[2].auth?.startsWith('Bearer tok-'));
  await c.manifest(ref);
  assert.is(reg.seen.length, 4, 'the token is reused');
});

test('bearer flow: wrong credentials and missing credentials fail with the reason', async () => {
  const manifests = new Map([['v1', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestBody }]]);
  const bad = new RegistryClient({
    fetch: fakeRegistry({ mode: 'bearer', user: 'alice', pass: 's3cret', blobs: new Map(), manifests }).fetch,
    credentials: [{ username: 'alice', password: 'nope', serverAddress: '127.0.0.1:5000' }],
  });
  const err = await bad.manifest(parseReference('127.0.0.1:5000/x/y:v1')).catch((e: Error) => e);
  assert.instance(err, RegistryError);
  assert.match((err as Error).message, /refused user alice.*wrong password/);
  const anon = new RegistryClient({
    fetch: fakeRegistry({ mode: 'bearer', user: 'alice', pass: 's3cret', blobs: new Map(), manifests }).fetch,
  });
  assert.match(
    ((await anon.manifest(parseReference('127.0.0.1:5000/x/y:v1')).catch((e: Error) => e)) as Error).message,
    /anonymous token.*anonymous not allowed/,
  );
});

test('basic auth, HTTPS for non-loopback, insecure, 404 reasons', async () => {
  const manifests = new Map([['v1', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestBody }]]);
  const reg = fakeRegistry({ mode: 'basic', user: 'bob', pass: 'pw', blobs: new Map(), manifests });
  const c = new RegistryClient({
    fetch: reg.fetch,
    credentials: [{ username: 'bob', password: 'pw', serverAddress: 'https://reg.example:5000' }],
  });
  await c.manifest(parseReference('reg.example:5000/x/y:v1'));
  assert.ok(reg.seen[0].url.startsWith('https://reg.example:5000/'), 'https off loopback');
  assert.ok(reg.seen[1].auth?.startsWith('Basic '));
  const insecure = fakeRegistry({ mode: 'open', blobs: new Map(), manifests });
  await new RegistryClient({ fetch: insecure.fetch, insecure: true }).manifest(parseReference('reg.example:5000/x/y:v1'));
  assert.ok(insecure.seen[0].url.startsWith('http://reg.example:5000/'));
  const e = (await new RegistryClient({ fetch: insecure.fetch })
    .manifest(parseReference('127.0.0.1:5000/x/y:nope'))
    .catch((x: Error) => x)) as RegistryError;
  assert.is(e.status, 404);
  assert.match(e.message, /MANIFEST_UNKNOWN: manifest unknown/);
});

test('blobs: digests are verified, Range resumes, a manifest by digest is verified', async () => {
  const data = crypto.randomBytes(100_000);
  const digest = sha(data);
  const liar = `sha256:${'0'.repeat(64)}`;
  const reg = fakeRegistry({
    mode: 'open',
    blobs: new Map([
      [digest, data],
      [liar, data],
    ]),
    manifests: new Map([[`sha256:${'1'.repeat(64)}`, { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestBody }]]),
  });
  const c = new RegistryClient({ fetch: reg.fetch });
  const ref = parseReference('127.0.0.1:5000/x/y:v1');
  assert.ok((await c.blobBytes(ref, digest)).equals(data));
  assert.match(((await c.blobBytes(ref, liar).catch((e: Error) => e)) as Error).message, /does not match its digest/);
  const parts: Buffer[] = [];
  for await (const b of c.blob(ref, digest, { offset: 60_000, size: data.length })) parts.push(b);
  assert.ok(Buffer.concat(parts).equals(data.subarray(60_000)));
  assert.is(reg.seen[reg.seen.length - 1].range, 'bytes=60000-');
  assert.match(((await c.manifest(ref, `sha256:${'1'.repeat(64)}`).catch((e: Error) => e)) as Error).message, /does not match its digest/);
});

test('the kuke login file: 0600, docker.io spellings merge, read back', () => {
  const dir = tmpDir('auth');
  const file = path.join(dir, 'sub', 'auth.json');
  assert.is(authFilePath({ KUKEON_AUTH_FILE: file }), file);
  assert.is(authFilePath({ HOME: '/home/x' }), '/home/x/.kuke/auth.json');
  writeAuthFile('https://index.docker.io/v1/', 'me', 'p:w', file);
  writeAuthFile('127.0.0.1:5000', 'you', 'x', file);
  assert.is(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(readAuthFile(file), [
    { serverAddress: 'docker.io', username: 'me', password: 'p:w' },
    { serverAddress: '127.0.0.1:5000', username: 'you', password: 'x' },
  ]);
  writeAuthFile('127.0.0.1:5000', undefined, undefined, file);
  assert.is(readAuthFile(file).length, 1);
  assert.equal(readAuthFile(path.join(dir, 'none.json')), []);
});

test('pull progress: per-layer lines and a total on a TTY, nothing otherwise (a pipe, TERM=dumb)', () => {
  assert.is(ttyProgress({ write: () => true } as unknown as NodeJS.WritableStream, {}), undefined);
  const tty = { isTTY: true, write: () => true } as unknown as NodeJS.WritableStream & { isTTY: boolean };
  assert.is(ttyProgress(tty, { TERM: 'dumb' }), undefined);
  let out = '';
  const p = ttyProgress(
    {
      isTTY: true,
      write: (s: string) => {
        out += s;
        return true;
      },
    } as unknown as NodeJS.WritableStream & {
      isTTY: boolean;
    },
    { TERM: 'xterm' },
  )!;
  const a = `sha256:${'a'.repeat(64)}`;
  const b = `sha256:${'b'.repeat(64)}`;
  p({ kind: 'resolved', name: 'docker.io/library/busybox:latest', digest: 'sha256:x' });
  p({ kind: 'fetch', digest: a, size: 2 << 20, what: 'layer', action: 'start', offset: 0 });
  p({ kind: 'fetch', digest: b, size: 1000, what: 'layer', action: 'present' });
  p({ kind: 'fetched', digest: a, size: 2 << 20 });
  assert.match(out, 'aaaaaaaaaaaa: Download complete');
  assert.match(out, 'bbbbbbbbbbbb: Already exists');
  assert.match(out, /total: \[=+>\] 2\.0MB\/2\.0MB/);
  assert.match(out, '\x1b[3A', 'redraws in place');
});

test.run();
