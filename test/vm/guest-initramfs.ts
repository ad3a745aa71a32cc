// The guest's initramfs: busybox, containerd with its runc shim, runc, catatonit, Node and the built kukeon
// (installed as a distribution would: /usr/lib/kukeon, /usr/bin/kuke, /etc/kukeon/kukeon.yaml), the overlayfs
// module, the test image and the scenario from test/vm/guest/. Binaries are the host's own, with the shared
// libraries ldd lists, at the same paths.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCpio, type CpioEntry } from '../helpers/cpio-writer';
import { findBinary } from '../e2e/requirements';
import type { GuestKernel } from './guest-kernel';

export const GUEST_BINARIES = ['node', 'containerd', 'containerd-shim-runc-v2', 'runc', 'catatonit'] as const;

export interface GuestInitramfsInput {
  out: string;
  repoRoot: string;
  kernel: GuestKernel;
  /** The busybox OCI archive loaded with `kuke image load` in the guest. */
  imageArchive: string;
}

/** The libraries a dynamic executable loads (ldd's absolute paths); none for a static one. */
export function sharedLibraries(binary: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [binary], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return []; // "not a dynamic executable" exits 1
  }
  if (/not found/.test(out)) throw new Error(`${binary} needs libraries this machine lacks:\n${out}`);
  return [...out.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]);
}

/** The directories of kukeon's production dependencies (`npm ls --omit=dev`), relative to the repository. */
function productionModules(repoRoot: string): string[] {
  // npm ls exits 1 on an extraneous package in a developer's tree, with the list still complete on stdout
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = r.stdout ?? '';
  if (!out.includes(path.join(repoRoot, 'node_modules')))
    throw new Error(`npm ls --omit=dev listed no modules (exit ${r.status}): ${r.stderr}`);
  return out
    .split('\n')
    .filter((l) => l.startsWith(path.join(repoRoot, 'node_modules')))
    .map((l) => path.relative(repoRoot, l));
}

/** Every regular file and symlink under `dir`, relative to it. */
export function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...walk(dir, p));
    else out.push(p);
  }
  return out;
}

export class EntryList {
  private readonly byPath = new Map<string, CpioEntry>();

  add(e: CpioEntry): void {
    const p = e.path.replace(/^\/+/, '');
    for (let d = path.posix.dirname(p); d !== '.'; d = path.posix.dirname(d)) {
      if (!this.byPath.has(d)) this.byPath.set(d, { type: 'dir', path: d });
    }
    this.byPath.set(p, { ...e, path: p });
  }

  /** A host file at `guestPath`, its content read through symlinks, its mode kept. */
  copy(hostPath: string, guestPath = hostPath): void {
    const real = fs.realpathSync(hostPath);
    this.add({ type: 'file', path: guestPath, source: real, mode: fs.statSync(real).mode & 0o7777 });
  }

  /** A host executable and the shared libraries it loads, each at its own path. */
  copyWithLibraries(binary: string): void {
    this.copy(binary);
    for (const lib of sharedLibraries(binary)) this.copy(lib);
  }

  /** Parents before children: the kernel creates entries in archive order. */
  sorted(): CpioEntry[] {
    return [...this.byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/**
 * What every guest holds: the directories of a root, static busybox, containerd, runc, catatonit and Node with their
 * libraries, and kukeon installed as a distribution would install it (/usr/lib/kukeon, /usr/bin/kuke).
 */
export function guestBase(repoRoot: string): EntryList {
  const list = new EntryList();
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'run', 'root', 'var/lib', 'etc'])
    list.add({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 });

  if (sharedLibraries('/bin/busybox').length)
    throw new Error('/bin/busybox is dynamic: the guest needs a static one (Debian busybox-static)');
  list.copy('/bin/busybox');
  list.add({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
  for (const name of GUEST_BINARIES) {
    const bin = findBinary(name);
    if (!bin) throw new Error(`the guest needs ${name}, which is not on this machine`);
    list.copyWithLibraries(bin);
  }

  const kukeon = 'usr/lib/kukeon';
  list.copy(path.join(repoRoot, 'package.json'), `${kukeon}/package.json`);
  list.copy(path.join(repoRoot, 'bin', 'kuke.js'), `${kukeon}/bin/kuke.js`);
  list.copy(path.join(repoRoot, 'bin', 'kukeond.js'), `${kukeon}/bin/kukeond.js`);
  for (const top of ['src', 'sdk', 'plugins']) {
    for (const f of walk(path.join(repoRoot, 'dist', top))) list.copy(path.join(repoRoot, 'dist', top, f), `${kukeon}/dist/${top}/${f}`);
  }
  for (const plugin of ['containerd', 'api-socket']) {
    const protos = path.join(repoRoot, 'plugins', plugin, 'proto');
    for (const f of walk(protos)) list.copy(path.join(protos, f), `${kukeon}/plugins/${plugin}/proto/${f}`);
  }
  const packaging = path.join(repoRoot, 'packaging');
  for (const f of walk(packaging)) list.copy(path.join(packaging, f), `${kukeon}/packaging/${f}`);
  for (const mod of productionModules(repoRoot)) {
    for (const f of walk(path.join(repoRoot, mod))) {
      const host = path.join(repoRoot, mod, f);
      if (fs.lstatSync(host).isSymbolicLink()) list.add({ type: 'symlink', path: `${kukeon}/${mod}/${f}`, target: fs.readlinkSync(host) });
      else list.copy(host, `${kukeon}/${mod}/${f}`);
    }
  }
  list.add({ type: 'symlink', path: 'usr/bin/kuke', target: `../lib/kukeon/bin/kuke.js` });
  list.add({ type: 'symlink', path: 'usr/bin/kukeond', target: `../lib/kukeon/bin/kukeond.js` });
  return list;
}

/** Builds the cgroup v2 guest's initramfs at `input.out`; returns its size in bytes. */
export function buildGuestInitramfs(input: GuestInitramfsInput): number {
  const { repoRoot } = input;
  const guestDir = path.join(repoRoot, 'test', 'vm', 'guest');
  const list = guestBase(repoRoot);
  list.copy(input.kernel.overlayKo, 'lib/modules/overlay.ko');
  list.copy(path.join(guestDir, 'init'), 'init');
  list.copy(path.join(guestDir, 'stage2'), 'kt/stage2');
  list.copy(path.join(guestDir, 'scenario.sh'), 'kt/scenario.sh');
  for (const f of walk(path.join(guestDir, 'manifests'))) list.copy(path.join(guestDir, 'manifests', f), `kt/manifests/${f}`);
  list.copy(path.join(guestDir, 'kukeon.yaml'), 'etc/kukeon/kukeon.yaml');
  list.copy(path.join(guestDir, 'containerd.toml'), 'etc/containerd/config.toml');
  list.copy(input.imageArchive, 'kt/busybox-oci.tar');
  return writeCpio(input.out, list.sorted());
}
