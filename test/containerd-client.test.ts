// End-to-end tests of the containerd gRPC client and the OCI archive importer against a real, private containerd.
//
// Runs only as root with containerd, runc, nsenter and ip on PATH; otherwise it prints `SKIP: <reason>` and
// registers no test (with KUKEON_E2E=required the missing prerequisite is a failure instead).
//
// The private containerd: its own root/state/socket/opt dirs in a temp dir, CRI disabled, started inside a
// network namespace this file creates (`nsenter --net=/run/netns/<name>`; `ip netns exec` would remount /sys),
// stopped by its pid (SIGTERM, then SIGKILL). Teardown removes only what it made: the temp dir, the netns (and
// /run/netns when it did not exist before), under /run/containerd the `runc/<our namespace>` dirs and the shim
// sockets `s/<sha256(socket/ns/id)>` of our containers that are new since the start, /run/containerd dirs that
// did not exist before and are empty, and the cgroup directories our relative cgroupsPath made.
// The machine-wide e2e lock (the one test/e2e's harness takes) serialises this with other e2e suites.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  ContainerdClient,
  ContainerdError,
  GRPC_STATUS,
  isNotFound,
  type ContainerdEvent,
} from '../plugins/containerd/grpc/containerd-client';
import { hostPlatform, imageChainId, importOciArchive, type ImportProgress } from '../plugins/containerd/image/import-oci-archive';
import { writeTar, type TarWriteEntry } from './helpers/tar-writer';
import { acquireMachineLock } from './e2e/machine-lock';
import { DEFAULT_CAPS } from '../plugins/containerd/capability-set';

const RUN_CONTAINERD = '/run/containerd';
const RUN_NETNS = '/run/netns';
const SNAPSHOTTER = 'overlayfs';
const BUSYBOX = '/bin/busybox';

function onPath(bin: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    .some((d) => {
      try {
        fs.accessSync(path.join(d, bin), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'containerd e2e needs Linux';
  if (process.getuid?.() !== 0) return 'containerd e2e needs root';
  for (const bin of ['containerd', 'containerd-shim-runc-v2', 'runc', 'nsenter', 'ip']) if (!onPath(bin)) return `${bin} is not on PATH`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Fixture: an OCI image layout with two layers (busybox + sh/sleep links; a hello file), two named images:
// `:one` targets the manifest, `:multi` targets a nested index (manifest list) with an extra foreign platform.

const sha256 = (b: Buffer | string): string => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

interface Fixture {
  archive: Buffer;
  refOne: string;
  refMulti: string;
  manifestDigest: string;
  nestedIndexDigest: string;
  configDigest: string;
  layerDigests: string[];
  layerBlobs: Buffer[];
  diffIds: string[];
  chainId: string;
  hasBusybox: boolean;
}

function buildFixture(tag: string): Fixture {
  const hasBusybox = fs.existsSync(BUSYBOX);
  const layer1: TarWriteEntry[] = [
    { name: 'bin', type: 'directory' },
    ...(hasBusybox ? [{ name: 'bin/busybox', data: fs.readFileSync(BUSYBOX), mode: 0o755 }] : []),
    { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
    { name: 'bin/sleep', type: 'symlink', linkname: 'busybox' },
  ];
  const layer2: TarWriteEntry[] = [
    { name: 'etc', type: 'directory' },
    { name: 'etc/hello.txt', data: `hello from ${tag}\n` },
  ];
  const platform = hostPlatform();
  const layerTars = [writeTar(layer1), writeTar(layer2)];
  const diffIds = layerTars.map(sha256);
  const layerBlobs = layerTars.map((t) => zlib.gzipSync(t, { level: 1 }));
  const layerDigests = layerBlobs.map(sha256);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: 'linux',
      config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], WorkingDir: '/', User: '0:0' },
      rootfs: { type: 'layers', diff_ids: diffIds },
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: layerBlobs.map((b, i) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: layerDigests[i],
        size: b.length,
      })),
    }),
  );
  const manifestDigest = sha256(manifest);
  const nested = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        // a platform we are not: its manifest is not in the archive, and that is fine
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('not here'),
          size: 8,
          platform: { os: 'linux', architecture: platform.architecture === 's390x' ? 'ppc64le' : 's390x' },
        },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length, platform },
      ],
    }),
  );
  const nestedIndexDigest = sha256(nested);
  const refOne = `docker.io/kukeon/client-test:${tag}-one`;
  const refMulti = `docker.io/kukeon/client-test:${tag}-multi`;
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifest.length,
        platform,
        annotations: { 'io.containerd.image.name': refOne, 'org.opencontainers.image.ref.name': `${tag}-one` },
      },
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest: nestedIndexDigest,
        size: nested.length,
        annotations: { 'io.containerd.image.name': refMulti },
      },
    ],
  };
  const blob = (d: string, data: Buffer): TarWriteEntry => ({ name: `blobs/sha256/${d.slice(7)}`, data });
  const archive = writeTar([
    { name: 'blobs', type: 'directory' },
    { name: 'blobs/sha256', type: 'directory' },
    ...[
      ...layerBlobs.map((b, i) => blob(layerDigests[i], b)),
      blob(configDigest, config),
      blob(manifestDigest, manifest),
      blob(nestedIndexDigest, nested),
    ].sort((a, b) => a.name.localeCompare(b.name)),
    { name: 'index.json', data: JSON.stringify(index) },
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
  ]);
  const chainId = sha256(`${diffIds[0]} ${diffIds[1]}`);
  return {
    archive,
    refOne,
    refMulti,
    manifestDigest,
    nestedIndexDigest,
    configDigest,
    layerDigests,
    layerBlobs,
    diffIds,
    chainId,
    hasBusybox,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The private containerd

const listDir = (dir: string): string[] | null => {
  try {
    return fs.readdirSync(dir);
  } catch {
    return null;
  }
};

function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (p === dir || p.startsWith(`${dir}/`)) out.push(p);
  }
  return out;
}

/** The cgroup directories a relative cgroupsPath `<rel>` resolves to: `<mount><our cgroup>/<rel>` per hierarchy. */
function relativeCgroupDirs(rel: string): string[] {
  const mounts: { mp: string; fstype: string; opts: string[] }[] = [];
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const [fstype, , superOpts] = right.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    mounts.push({ mp: left.split(' ')[4], fstype, opts: superOpts.split(',') });
  }
  const out: string[] = [];
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [id, ctrls, p] = [
      line.slice(0, line.indexOf(':')),
      line.slice(line.indexOf(':') + 1, line.lastIndexOf(':')),
      line.slice(line.lastIndexOf(':') + 1),
    ];
    const m =
      id === '0' && ctrls === ''
        ? mounts.find((x) => x.fstype === 'cgroup2')
        : mounts.find((x) => x.fstype === 'cgroup' && ctrls.split(',').every((c) => x.opts.includes(c)));
    if (m) out.push(path.join(m.mp, p, rel));
  }
  return out;
}

class PrivateContainerd {
  readonly id = crypto.randomBytes(4).toString('hex');
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kukeon-ctd-'));
  readonly socket = path.join(this.tmp, 'containerd.sock');
  readonly netns = `kukeon-ctc-${this.id}`;
  readonly logFile = path.join(this.tmp, 'containerd.log');
  /** Namespaces and container ids used, for the runc/<ns> dirs and shim sockets to remove. */
  readonly namespaces = new Set<string>();
  readonly containers: { ns: string; id: string }[] = [];
  readonly cgroupParents = new Set<string>();
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private releaseLock: (() => Promise<void>) | undefined;
  private before: { runContainerd: boolean; dirs: Record<string, string[] | null>; runNetns: boolean } | undefined;
  private madeNetns = false;
  private stopped = false;

  async start(): Promise<void> {
    const t0 = Date.now();
    this.releaseLock = await acquireMachineLock();
    if (Date.now() - t0 > 1000) console.log(`(waited ${Date.now() - t0} ms for the machine-wide e2e lock: another e2e suite was running)`);
    this.before = {
      runContainerd: fs.existsSync(RUN_CONTAINERD),
      dirs: Object.fromEntries(['', 's', 'runc', 'fifo'].map((d) => [d, listDir(path.join(RUN_CONTAINERD, d))])),
      runNetns: fs.existsSync(RUN_NETNS),
    };
    const add = spawnSync('ip', ['netns', 'add', this.netns], { encoding: 'utf8' });
    if (add.status !== 0) throw new Error(`ip netns add ${this.netns}: ${add.stderr}`);
    this.madeNetns = true;
    const config = path.join(this.tmp, 'config.toml');
    fs.writeFileSync(
      config,
      [
        'version = 2',
        `root = "${this.tmp}/root"`,
        `state = "${this.tmp}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
        '[grpc]',
        `  address = "${this.socket}"`,
        '[ttrpc]',
        `  address = "${this.socket}.ttrpc"`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${this.tmp}/opt"`,
        '',
      ].join('\n'),
    );
    const logFd = fs.openSync(this.logFile, 'a');
    const child = spawn('nsenter', [`--net=/run/netns/${this.netns}`, 'containerd', '--config', config], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
    });
    fs.closeSync(logFd);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    const deadline = Date.now() + 10_000;
    while (!fs.existsSync(this.socket)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`containerd exited early:\n${this.logTail()}`);
      if (Date.now() > deadline) throw new Error(`containerd did not create its socket in 10 s:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  logTail(): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(): Promise<string[]> {
    this.stopped = true;
    const problems: string[] = [];
    const child = this.child;
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const t = await Promise.race([this.exited!.then(() => 'exited'), new Promise((r) => (timer = setTimeout(() => r('timeout'), 5000)))]);
      clearTimeout(timer);
      if (t === 'timeout') {
        problems.push('containerd did not exit on SIGTERM within 5 s: SIGKILL');
        process.kill(child.pid, 'SIGKILL');
        await this.exited;
      }
    }
    this.cleanupFiles(problems);
    if (this.releaseLock) await this.releaseLock().catch((err) => problems.push(`lock release: ${(err as Error).message}`));
    this.releaseLock = undefined;
    return problems;
  }

  /** Removes what this containerd made on the host (after it has stopped). Synchronous: also used on exit. */
  cleanupFiles(problems: string[]): void {
    // /run/containerd: our runc/<ns> dirs, our shim sockets (if new), dirs that did not exist before and are empty
    const before = this.before;
    if (before) {
      for (const ns of this.namespaces) {
        const d = path.join(RUN_CONTAINERD, 'runc', ns);
        if (!(before.dirs.runc ?? []).includes(ns) && fs.existsSync(d)) fs.rmSync(d, { recursive: true, force: true });
      }
      for (const c of this.containers) {
        const name = crypto
          .createHash('sha256')
          .update(path.join(this.socket, c.ns, c.id))
          .digest('hex');
        if (!(before.dirs.s ?? []).includes(name)) fs.rmSync(path.join(RUN_CONTAINERD, 's', name), { force: true });
      }
      const newInS = (listDir(path.join(RUN_CONTAINERD, 's')) ?? []).filter((e) => !(before.dirs.s ?? []).includes(e));
      if (newInS.length) problems.push(`new entries in /run/containerd/s that are not ours (left alone): ${newInS.join(' ')}`);
      for (const d of ['s', 'runc', 'fifo']) {
        if (before.dirs[d] === null && listDir(path.join(RUN_CONTAINERD, d))?.length === 0) fs.rmdirSync(path.join(RUN_CONTAINERD, d));
      }
      if (!before.runContainerd && listDir(RUN_CONTAINERD)?.length === 0) fs.rmdirSync(RUN_CONTAINERD);
    }
    for (const rel of this.cgroupParents) {
      for (const dir of relativeCgroupDirs(rel)) {
        try {
          fs.rmdirSync(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`rmdir ${dir}: ${(err as Error).message}`);
        }
      }
    }
    if (this.madeNetns) {
      const del = spawnSync('ip', ['netns', 'delete', this.netns], { encoding: 'utf8' });
      if (del.status !== 0) problems.push(`ip netns delete ${this.netns}: ${del.stderr}`);
      this.madeNetns = false;
      if (before && !before.runNetns && (listDir(RUN_NETNS) ?? ['?']).length === 0) {
        for (let i = 0; i < 4 && mountsUnder(RUN_NETNS).includes(RUN_NETNS); i++) spawnSync('umount', [RUN_NETNS]);
        if (mountsUnder(RUN_NETNS).length === 0) fs.rmdirSync(RUN_NETNS);
      }
    }
    if (!fs.existsSync(this.tmp)) return;
    const leftMounts = mountsUnder(this.tmp);
    for (const m of leftMounts.reverse()) {
      problems.push(`mount left under the temp dir: ${m}`);
      spawnSync('umount', [m]);
    }
    if (mountsUnder(this.tmp).length === 0) fs.rmSync(this.tmp, { recursive: true, force: true });
    else problems.push(`temp dir ${this.tmp} kept: mounts remain`);
  }

  /** Last-resort cleanup when the process exits without stop(). */
  emergencyStop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.child?.pid && this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(this.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    const problems: string[] = [];
    try {
      this.cleanupFiles(problems);
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (problems.length) console.error(`emergency teardown: ${problems.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------

function ociSpec(args: string[], cgroupsPath: string, hostname: string): object {
  const caps = DEFAULT_CAPS;
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
      oomScoreAdj: 0,
    },
    root: { path: 'rootfs', readonly: false },
    hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
      cgroupsPath,
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.match(String((err as Error)?.message ?? err), pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

/** Kills and deletes whatever tasks and containers a failed test left in our namespaces (before containerd stops). */
async function removeLeftovers(client: ContainerdClient, namespaces: Iterable<string>, problems: string[]): Promise<void> {
  for (const ns of namespaces) {
    try {
      for (const t of await client.tasks.list(ns)) {
        problems.push(`task ${ns}/${t.id} left by a test: killed`);
        await client.tasks.kill(ns, t.id, 'SIGKILL', { all: true }).catch(() => undefined);
        await client.tasks.wait(ns, t.id, '', { timeoutMs: 5000 }).catch(() => undefined);
        await client.tasks.delete(ns, t.id).catch((err) => problems.push(`task delete ${t.id}: ${(err as Error).message}`));
      }
      for (const c of await client.containers.list(ns)) await client.containers.delete(ns, c.id).catch(() => undefined);
    } catch (err) {
      if (!isNotFound(err)) problems.push(`leftovers in ${ns}: ${(err as Error).message}`);
    }
  }
}

async function expectGrpcError(p: Promise<unknown>, code: number, pattern?: RegExp): Promise<ContainerdError> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, ContainerdError);
    const e = err as ContainerdError;
    assert.is(e.grpcCode, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return e;
  }
  throw new assert.Assertion({
    message: `expected a gRPC error ${code}`,
    operator: 'throws',
    expects: code,
    actual: 'resolved',
    generated: false,
  });
}

const reason = skipReason();
if (reason) {
  if (process.env.KUKEON_E2E === 'required') {
    test('containerd e2e prerequisites (KUKEON_E2E=required)', () => {
      assert.unreachable(`containerd e2e cannot run: ${reason}`);
    });
  } else console.log(`SKIP: ${reason}`);
} else {
  const ctd = new PrivateContainerd();
  const ns = `kukeon-t${ctd.id}`;
  const nsEmpty = `kukeon-t${ctd.id}-n`;
  ctd.namespaces.add(ns).add(nsEmpty);
  const fixture = buildFixture(ctd.id);
  let client: ContainerdClient;
  process.on('exit', () => ctd.emergencyStop());

  test.before(async () => {
    await ctd.start();
    client = new ContainerdClient(ctd.socket, { timeoutMs: 15_000 });
  });

  test.after(async () => {
    const problems: string[] = [];
    if (client) await removeLeftovers(client, ctd.namespaces, problems);
    client?.close();
    problems.push(...(await ctd.stop()));
    if (problems.length) console.log(`teardown notes:\n  ${problems.join('\n  ')}`);
  });

  test('ping: false for a socket nobody listens on, true for ours; version; introspection lists the snapshotters', async () => {
    const nobody = new ContainerdClient(path.join(ctd.tmp, 'nobody.sock'));
    const t0 = Date.now();
    assert.is(await nobody.ping(1000), false);
    assert.ok(Date.now() - t0 < 1500);
    nobody.close();
    assert.is(await client.ping(5000), true);
    const v = await client.version();
    assert.match(v.version, /^\d+\.\d+/);
    const plugins = await client.introspection.plugins();
    const overlay = plugins.find((p) => p.type === 'io.containerd.snapshotter.v1' && p.id === SNAPSHOTTER);
    assert.ok(overlay, 'overlayfs snapshotter listed');
    assert.is(overlay!.init_err, null);
    const cri = plugins.find((p) => p.id === 'cri');
    assert.not.ok(cri, 'CRI is disabled');
    assert.ok(
      plugins.some((p) => p.init_err?.message),
      'skipped plugins carry init_err',
    );
  });

  test('namespaces: create, get, list, update labels, delete; errors carry the gRPC code', async () => {
    const created = await client.namespaces.create(nsEmpty, { 'kukeon.io/test': 'yes' });
    assert.is(created.name, nsEmpty);
    assert.equal((await client.namespaces.get(nsEmpty)).labels, { 'kukeon.io/test': 'yes' });
    assert.ok((await client.namespaces.list()).some((n) => n.name === nsEmpty));
    await expectGrpcError(client.namespaces.create(nsEmpty), GRPC_STATUS.ALREADY_EXISTS, /^ALREADY_EXISTS: /);
    await client.namespaces.update(nsEmpty, { other: '1' }, ['labels.other']);
    assert.equal((await client.namespaces.get(nsEmpty)).labels, { 'kukeon.io/test': 'yes', other: '1' });
    await client.namespaces.update(nsEmpty, { only: 'this' });
    assert.equal((await client.namespaces.get(nsEmpty)).labels, { only: 'this' });
    await client.namespaces.delete(nsEmpty);
    const e = await expectGrpcError(client.namespaces.get(nsEmpty), GRPC_STATUS.NOT_FOUND, /^NOT_FOUND: /);
    assert.ok(isNotFound(e));
    assert.is(e.codeName, 'NOT_FOUND');
    await expectGrpcError(
      client.containers.get(ns, 'no-such-container'),
      GRPC_STATUS.NOT_FOUND,
      /NOT_FOUND: container "no-such-container"/,
    );
    // namespaced calls without a namespace are refused by containerd
    await expectGrpcError(client.images.list(''), GRPC_STATUS.FAILED_PRECONDITION, /namespace is required/);
  });

  test('content: write (several chunks), info, read back, re-write counts as existing, labels, wrong digest, delete', async () => {
    const data = crypto.randomBytes(2.5 * 1024 * 1024);
    const digest = sha256(data);
    const lease = await client.leases.create(ns, { expireInMs: 60_000 });
    const w = await client.content.write(ns, { digest, data, labels: { 'kukeon.io/t': 'x' } }, { lease: lease.id });
    assert.equal(w, { digest, size: data.length, existed: false });
    const info = await client.content.info(ns, digest);
    assert.is(info.size, String(data.length));
    assert.is(info.labels['kukeon.io/t'], 'x');
    assert.ok((await client.content.read(ns, digest)).equals(data));
    assert.ok((await client.content.read(ns, digest, { offset: 100, size: 50 })).equals(data.subarray(100, 150)));
    // a second write of the same blob: ALREADY_EXISTS is success
    const again = await client.content.write(
      ns,
      { digest, data: [data.subarray(0, 10), data.subarray(10)], size: data.length },
      { lease: lease.id },
    );
    assert.is(again.existed, true);
    const updated = await client.content.update(ns, digest, { 'kukeon.io/t': '', other: 'y' });
    assert.equal(updated.labels, { other: 'y' });
    // a wrong expected digest fails on commit and leaves no ingest behind
    await expectGrpcError(
      client.content.write(ns, { digest: sha256('something else'), data: Buffer.from('x') }, { lease: lease.id }),
      GRPC_STATUS.FAILED_PRECONDITION,
      /digest/,
    );
    assert.ok((await client.leases.listResources(ns, lease.id)).some((r) => r.type === 'content' && r.id === digest));
    // delete the blob while the lease still holds it: once the lease is gone, containerd's garbage collector may
    // take the unreferenced blob first, and the delete would race it (CI run of 068d263: NOT_FOUND)
    await client.content.delete(ns, digest);
    await expectGrpcError(client.content.info(ns, digest), GRPC_STATUS.NOT_FOUND);
    assert.is(await client.content.stat(ns, digest), undefined);
    // server-streaming errors come back the same way
    await expectGrpcError(client.content.read(ns, digest), GRPC_STATUS.NOT_FOUND, /^NOT_FOUND: /);
    await client.leases.delete(ns, lease.id);
    // a subscription cancelled before anyone iterates it is harmless
    client.events.subscribe().cancel();
    await new Promise((r) => setTimeout(r, 20));
  });

  test('importOciArchive: blobs, GC labels, unpacked snapshots, images, under a lease that is gone afterwards', async () => {
    const events: ImportProgress[] = [];
    let leaseSeen: Promise<string[]> | undefined;
    const images = await importOciArchive(client, ns, fixture.archive, {
      labels: { 'kukeon.io/imported': 'yes' },
      onProgress: (e) => {
        events.push(e);
        if (e.kind === 'blob' && !leaseSeen) leaseSeen = client.leases.list(ns).then((ls) => ls.map((l) => l.id));
      },
    });
    assert.equal(
      images.map((i) => [i.name, i.digest, i.chainId]),
      [
        [fixture.refOne, fixture.manifestDigest, fixture.chainId],
        [fixture.refMulti, fixture.nestedIndexDigest, fixture.chainId],
      ],
    );
    // the lease: created, present in containerd while blobs were written, deleted at the end
    const leaseEvents = events.filter((e): e is Extract<ImportProgress, { kind: 'lease' }> => e.kind === 'lease');
    assert.equal(
      leaseEvents.map((e) => e.action),
      ['created', 'deleted'],
    );
    assert.ok((await leaseSeen!).includes(leaseEvents[0].id), 'lease existed during the import');
    assert.not.ok(
      (await client.leases.list(ns)).some((l) => l.id === leaseEvents[0].id),
      'lease gone after the import',
    );
    assert.is(events.filter((e) => e.kind === 'blob' && e.action === 'written').length, 5);
    assert.equal(
      events.filter((e) => e.kind === 'layer').map((e) => (e as { action: string }).action),
      ['unpacked', 'unpacked', 'present', 'present'],
    );

    const listed = await client.images.list(ns);
    assert.equal(listed.map((i) => i.name).sort(), [fixture.refOne, fixture.refMulti].sort());
    const one = await client.images.get(ns, fixture.refOne);
    assert.is(one.target.digest, fixture.manifestDigest);
    assert.is(one.target.media_type, 'application/vnd.oci.image.manifest.v1+json');
    assert.is(one.labels['kukeon.io/imported'], 'yes');

    // the snapshot chain
    const top = await client.snapshots.stat(ns, SNAPSHOTTER, fixture.chainId);
    assert.is(top.kind, 'COMMITTED');
    assert.is(top.parent, fixture.diffIds[0]);
    assert.is((await client.snapshots.stat(ns, SNAPSHOTTER, fixture.diffIds[0])).parent, '');
    assert.equal((await client.snapshots.list(ns, SNAPSHOTTER)).map((s) => s.name).sort(), [fixture.diffIds[0], fixture.chainId].sort());

    // GC labels as containerd's importer/unpacker set them
    const m = (await client.content.info(ns, fixture.manifestDigest)).labels;
    assert.is(m['containerd.io/gc.ref.content.config'], fixture.configDigest);
    assert.is(m['containerd.io/gc.ref.content.l.0'], fixture.layerDigests[0]);
    assert.is(m['containerd.io/gc.ref.content.l.1'], fixture.layerDigests[1]);
    assert.is(
      (await client.content.info(ns, fixture.nestedIndexDigest)).labels['containerd.io/gc.ref.content.m.1'],
      fixture.manifestDigest,
    );
    assert.is((await client.content.info(ns, fixture.configDigest)).labels['containerd.io/gc.ref.snapshot.overlayfs'], fixture.chainId);
    assert.is((await client.content.info(ns, fixture.layerDigests[1])).labels['containerd.io/uncompressed'], fixture.diffIds[1]);
    // content reads back byte for byte
    assert.ok((await client.content.read(ns, fixture.layerDigests[0])).equals(fixture.layerBlobs[0]));

    // imageChainId: manifest and nested index give the same chain and the image config
    for (const ref of [fixture.refOne, fixture.refMulti]) {
      const c = await imageChainId(client, ns, ref);
      assert.is(c.chainId, fixture.chainId);
      assert.is(c.manifestDigest, fixture.manifestDigest);
      assert.is(c.configDigest, fixture.configDigest);
      assert.equal(c.config.Cmd, ['/bin/sh']);
      assert.equal(c.config.Env, ['PATH=/bin']);
    }
    await expectGrpcError(imageChainId(client, ns, 'docker.io/kukeon/none:x'), GRPC_STATUS.NOT_FOUND);
  });

  test('re-import skips what containerd has (buffer, stream and gzipped stream); same digests; no lease left', async () => {
    const gz = path.join(ctd.tmp, 'fixture.tar.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fixture.archive, { level: 1 }));
    const sources: [string, () => Buffer | NodeJS.ReadableStream][] = [
      ['buffer', () => fixture.archive],
      ['stream', () => Readable.from([fixture.archive.subarray(0, 777), fixture.archive.subarray(777)])],
      ['gzip stream', () => fs.createReadStream(gz, { highWaterMark: 4096 })],
    ];
    for (const [what, source] of sources) {
      const events: ImportProgress[] = [];
      const t0 = Date.now();
      const images = await importOciArchive(client, ns, source(), { onProgress: (e) => events.push(e) });
      assert.ok(Date.now() - t0 < 5000, what);
      assert.equal(
        images.map((i) => i.digest),
        [fixture.manifestDigest, fixture.nestedIndexDigest],
        what,
      );
      const blobs = events.filter((e) => e.kind === 'blob');
      assert.is(blobs.length, 5, what);
      assert.ok(
        blobs.every((e) => (e as { action: string }).action === 'present'),
        `${what}: no blob written again`,
      );
      assert.ok(
        events.filter((e) => e.kind === 'layer').every((e) => (e as { action: string }).action === 'present'),
        `${what}: no layer unpacked again`,
      );
    }
    assert.equal(await client.leases.list(ns), []);
  });

  test('an archive that is not an OCI layout, or lacks a referenced blob, fails and leaves no lease', async () => {
    await rejects(importOciArchive(client, ns, writeTar([{ name: 'manifest.json', data: '[]' }])), /index\.json is missing/);
    const missing = writeTar([
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      {
        name: 'index.json',
        data: JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              digest: sha256('absent'),
              size: 6,
              annotations: { 'io.containerd.image.name': 'x/y:z' },
            },
          ],
        }),
      },
    ]);
    await rejects(importOciArchive(client, ns, missing), /neither in the archive nor in containerd's content store/);
    await rejects(importOciArchive(client, ns, writeTar([{ name: '../evil', data: 'x' }])), /escapes the archive/);
    assert.equal(await client.leases.list(ns), []);
  });

  test('garbage collection keeps the imported image (labels) and collects it once the image is deleted', async () => {
    // deleting a lease with sync=true runs the garbage collector before returning
    const l = await client.leases.create(ns);
    await client.leases.delete(ns, l.id, true);
    for (const d of [fixture.manifestDigest, fixture.nestedIndexDigest, fixture.configDigest, ...fixture.layerDigests])
      assert.ok(await client.content.stat(ns, d), `${d} kept`);
    assert.ok(await client.snapshots.tryStat(ns, SNAPSHOTTER, fixture.chainId), 'snapshot kept');
  });

  test('a task round trip on the imported image: create, start, wait (exit 3), output, events, kill, delete', async () => {
    if (!fixture.hasBusybox) {
      console.log(`SKIP: ${BUSYBOX} missing (busybox-static), no task round trip`);
      return;
    }
    const { chainId } = await imageChainId(client, ns, fixture.refOne);
    const cgParent = `kukeon-client-test-${ctd.id}`;
    ctd.cgroupParents.add(cgParent);
    const lease = await client.leases.create(ns, { expireInMs: 600_000 });
    const seen: ContainerdEvent[] = [];
    const sub = client.events.subscribe([`namespace==${ns}`]);
    const pump = (async () => {
      for await (const e of sub) seen.push(e);
    })();
    await new Promise((r) => setTimeout(r, 50)); // let containerd register the subscription

    const run = async (id: string, args: string[]): Promise<{ log: string; mounts: number }> => {
      ctd.containers.push({ ns, id });
      const log = path.join(ctd.tmp, `${id}.log`);
      const mounts = await client.snapshots.prepare(ns, SNAPSHOTTER, id, chainId, {}, { lease: lease.id });
      await client.containers.create(
        ns,
        {
          id,
          image: fixture.refOne,
          spec: ociSpec(args, `${cgParent}/${id}`, id),
          snapshotter: SNAPSHOTTER,
          snapshot_key: id,
          labels: { 'kukeon.io/test': 'yes' },
        },
        { lease: lease.id },
      );
      const created = await client.tasks.create(ns, { container_id: id, rootfs: mounts, stdout: `file://${log}`, stderr: `file://${log}` });
      assert.ok(created.pid > 0);
      assert.is((await client.tasks.get(ns, id)).status, 'CREATED');
      return { log, mounts: mounts.length };
    };

    // 1. exits by itself with status 3
    const id1 = `c1-${ctd.id}`;
    const r1 = await run(id1, ['/bin/sh', '-c', 'echo hi; cat /etc/hello.txt; exit 3']);
    assert.ok(r1.mounts > 0);
    // containers: update a label, list by label filter
    await client.containers.update(ns, { id: id1, labels: { extra: '1' } }, ['labels.extra']);
    const c1 = await client.containers.get(ns, id1);
    assert.equal(c1.labels, { 'kukeon.io/test': 'yes', extra: '1' });
    assert.is(c1.runtime?.name, 'io.containerd.runc.v2');
    assert.is(JSON.parse(c1.spec!.value.toString()).hostname, id1);
    assert.equal(
      (await client.containers.list(ns, ['labels.extra==1'])).map((c) => c.id),
      [id1],
    );
    // without paths only the fields given are replaced: the spec stays
    await client.containers.update(ns, { id: id1, labels: { only: 'this' } });
    const c1b = await client.containers.get(ns, id1);
    assert.equal(c1b.labels, { only: 'this' });
    assert.is(JSON.parse(c1b.spec!.value.toString()).hostname, id1);
    const waiting = client.tasks.wait(ns, id1);
    const pid = await client.tasks.start(ns, id1);
    assert.ok(pid > 0);
    const w = await waiting;
    assert.is(w.exit_status, 3);
    assert.equal(fs.readFileSync(r1.log, 'utf8'), `hi\nhello from ${ctd.id}\n`);
    assert.is((await client.tasks.get(ns, id1)).status, 'STOPPED');
    assert.is((await client.tasks.delete(ns, id1)).exit_status, 3);

    // 2. runs until killed
    const id2 = `c2-${ctd.id}`;
    await run(id2, ['/bin/sleep', '30']);
    const pid2 = await client.tasks.start(ns, id2);
    const listed = await client.tasks.list(ns);
    assert.ok(listed.some((t) => t.id === id2 && t.status === 'RUNNING' && t.pid === pid2));
    assert.ok((await client.tasks.pids(ns, id2)).some((p) => p.pid === pid2));
    await client.tasks.kill(ns, id2, 'SIGKILL');
    assert.is((await client.tasks.wait(ns, id2, '', { timeoutMs: 10_000 })).exit_status, 137);
    await client.tasks.delete(ns, id2);
    await expectGrpcError(client.tasks.get(ns, id2), GRPC_STATUS.NOT_FOUND);

    for (const id of [id1, id2]) {
      await client.containers.delete(ns, id);
      await client.snapshots.remove(ns, SNAPSHOTTER, id);
    }
    await client.leases.delete(ns, lease.id);
    const expected = [
      '/snapshot/prepare',
      '/containers/create',
      '/tasks/create',
      '/tasks/start',
      '/tasks/exit',
      '/tasks/delete',
      '/containers/delete',
      '/snapshot/remove',
    ];
    // the last events may trail the calls that caused them
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !expected.every((t) => seen.some((e) => e.topic === t))) await new Promise((r) => setTimeout(r, 50));
    sub.cancel();
    await pump; // ends normally after cancel()

    const topics = seen.map((e) => e.topic);
    for (const t of expected) assert.ok(topics.includes(t), `event ${t} in ${topics.join(' ')}`);
    const exit1 = seen.find((e) => e.topic === '/tasks/exit' && (e.payload as { container_id?: string } | undefined)?.container_id === id1);
    assert.ok(exit1, 'TaskExit of c1 decoded');
    assert.is(exit1!.type, 'containerd.events.TaskExit');
    assert.is((exit1!.payload as { exit_status: number }).exit_status, 3);
    assert.ok(seen.every((e) => e.namespace === ns && e.timestamp instanceof Date));
  });

  test('deleting the images lets GC collect content and snapshots; the empty namespace can be deleted', async () => {
    await client.images.delete(ns, fixture.refOne);
    await client.images.delete(ns, fixture.refMulti, true); // sync: GC has run when this returns
    assert.equal(await client.images.list(ns), []);
    assert.equal(await client.content.list(ns), []);
    // snapshots are collected by the same GC pass, child first
    for (let i = 0; i < 50 && (await client.snapshots.list(ns, SNAPSHOTTER)).length; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await client.snapshots.list(ns, SNAPSHOTTER), []);
    assert.equal(await client.containers.list(ns), []);
    assert.equal(await client.leases.list(ns), []);
    await client.namespaces.delete(ns);
    assert.not.ok((await client.namespaces.list()).some((n) => n.name === ns));
  });
}

test.run();
