// What the kukeond container bind-mounts from the host: its rootfs is empty, so everything it runs and touches is
// a host path at the same place inside. Each entry says why (the README's mounts table lists the same). Only
// sources that survive a reboot are mounted (the socket's directory is on tmpfs, so its parent is mounted), so
// containerd's restart monitor can start kukeond again after a reboot before anything recreates /run/kukeon.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { VolumeMount } from '../../../sdk';
import { PAUSE_CANDIDATES } from '../../../plugins/containerd/pause-binary';
import type { InstallSettings } from './settings';

export interface KukeondMount extends VolumeMount {
  why: string;
}

/** kukeon's installed files: the package root (this file runs from dist/src/host/install). */
export const PACKAGE_ROOT = path.resolve(__dirname, '../../../..');

const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];

/**
 * The commands kukeond's plugins run: the cni plugin's iptables (isolation rules) and ip (bridge removal); the
 * containerd plugin's mkfifo and tail (the FIFOs of attachable containers, and the holder of their input).
 */
export const HOST_COMMANDS = [
  'iptables',
  'iptables-save',
  'iptables-restore',
  'ip6tables',
  'ip6tables-save',
  'ip6tables-restore',
  'ip',
  'mkfifo',
  'tail',
];

function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SBIN]) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/** The shared libraries `binary` loads and its dynamic loader, as ldd prints them (none for a static binary). */
export function sharedLibraries(binary: string): string[] {
  const r = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return parseLdd(r.stdout);
}

/** The absolute paths of ldd's output: `libc.so.6 => /lib/.../libc.so.6 (0x...)` and `/lib64/ld-linux-x86-64.so.2 (0x...)`. */
export function parseLdd(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

const exists = (p: string) => fs.existsSync(p);

/** The bind mounts of the kukeond container, deduplicated, each with its reason. */
export function kukeondMounts(s: InstallSettings, nodeBinary = process.execPath): KukeondMount[] {
  const mounts: KukeondMount[] = [];
  const add = (source: string, readOnly: boolean, why: string, target = source) => {
    if (!mounts.some((m) => m.target === target)) mounts.push({ kind: 'bind', source, target, readOnly, why });
  };
  add(nodeBinary, true, "the host's Node runs kukeond (no image)");
  // the protos are read at run time from the source tree (plugins/<name>/proto), not compiled into dist/
  for (const entry of [
    'package.json',
    'bin',
    'dist',
    'node_modules',
    'plugins/containerd/proto',
    'plugins/api-socket/proto',
    'plugins/api-cri/proto',
  ]) {
    const p = path.join(PACKAGE_ROOT, entry);
    if (exists(p)) add(p, true, "kukeon's installed files");
  }
  const commands = HOST_COMMANDS.map(which).filter((p): p is string => p !== undefined);
  for (const cmd of commands)
    add(cmd, true, 'run by the cni plugin (isolation rules, bridge removal) or the containerd plugin (terminals)');
  for (const lib of [nodeBinary, ...commands].flatMap(sharedLibraries))
    add(lib, true, 'a shared library (or the dynamic loader) of Node or a command above');
  // iptables loads its match and target modules with dlopen, from the xtables directory beside libxtables
  for (const lib of commands.flatMap(sharedLibraries).filter((l) => /libxtables\.so/.test(l))) {
    const dir = path.join(path.dirname(fs.realpathSync(lib)), 'xtables');
    if (exists(dir)) add(dir, true, "iptables' match and target modules (dlopen)");
  }
  add(s.runPath, false, 'the run path: state, locks, cell logs and /etc files');
  // The socket's directory is on tmpfs (gone after a reboot): its parent survives, and kukeond remakes the directory
  add(path.dirname(path.dirname(s.socket)), false, "the socket directory's parent (the directory itself does not survive a reboot)");
  add(path.dirname(s.containerdSocket), true, "containerd's socket directory (containerd makes it before it restarts kukeond)");
  if (s.configExists) add(path.dirname(s.configPath), true, 'the configuration directory');
  add('/etc/group', true, "the socket's group (0660 root:<group>)");
  // cgroupfs (rbind: the cgroup2 mount and, on a hybrid host, every v1 hierarchy below it)
  if (s.cgroupRoot !== undefined) add('/sys/fs/cgroup', false, 'cgroupfs: the kukeon cgroup tree and limits');
  if (s.cni) {
    add(s.cni.confDir, false, "CNI: the spaces' conflists");
    add(s.cni.cacheDir, false, 'CNI: cached ADD results (DEL and CHECK read them)');
    add(s.cni.ipamDataDir, false, "CNI: host-local's leases");
    for (const d of s.cni.binDirs.filter(exists)) add(d, true, 'CNI: plugin binaries (static)');
  }
  const pause = s.pauseBinary ?? PAUSE_CANDIDATES.find(exists);
  if (pause && exists(pause)) add(pause, true, "the pause binary of cells' synthesized roots (the daemon checks it is there)");
  // runc mounts in order: a parent after its child would hide the child
  const depth = (m: KukeondMount) => m.target.split('/').length;
  return mounts
    .map((m, i) => ({ m, i }))
    .sort((a, b) => depth(a.m) - depth(b.m) || a.i - b.i)
    .map(({ m }) => m);
}
