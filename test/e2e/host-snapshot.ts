// What an e2e suite must leave as it found it on the host: the root network namespace's links, routes and
// netfilter rules, /etc/cni/net.d, the top-level cgroup directories of every hierarchy, /run/containerd's
// entries (containerd 1.6 writes runc/<ns> and s/<hash> there whatever its state dir), /run/netns, and
// the mount points under /run and the temp directory. Each section is a sorted list of lines, or null when
// its source does not exist, so two snapshots compare line by line.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cgroupMounts, findBinary, unescapeMountField } from './requirements';

export interface HostSnapshot {
  takenAt: string;
  /** Section name -> its lines (sorted unless order matters), or null when the source is absent. */
  sections: Record<string, string[] | null>;
}

/** Output lines of a command run in this (the root) network namespace, or null when the binary is missing. */
function commandLines(cmd: string, args: string[]): string[] | null {
  const bin = findBinary(cmd);
  if (!bin) return null;
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return [`<error: ${r.error.message}>`];
  if (r.status !== 0) return [`<exit ${r.status}: ${(r.stderr ?? '').trim()}>`];
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

/** Names of the entries of `dir` (sorted), or null if it does not exist; subdirectories listed as `name/`. */
function listDir(dir: string): string[] | null {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
      .sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return [`<error: ${(err as Error).message}>`];
  }
}

/** `ip -o link show` reduced to interface names (`eth0`, `veth1@if3`): no counters, flags or addresses. */
function links(): string[] | null {
  const lines = commandLines('ip', ['-o', 'link', 'show']);
  if (!lines) return null;
  return lines.map((l) => /^\d+:\s*([^:\s]+(?:@[^:\s]+)?):/.exec(l)?.[1] ?? l).sort();
}

/** Routes without the parts that change by themselves (`expires Nsec`). */
function routes(family: '-4' | '-6'): string[] | null {
  const lines = commandLines('ip', [family, 'route', 'show', 'table', 'all']);
  if (!lines) return null;
  return lines
    .map((l) =>
      l
        .replace(/\s+expires\s+\S+/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .sort();
}

/** `iptables-save` without comments and packet/byte counters; rule order is kept (it matters). */
function netfilter(cmd: 'iptables-save' | 'ip6tables-save'): string[] | null {
  const lines = commandLines(cmd, []);
  if (!lines) return null;
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) =>
      l
        .replace(/\s*\[\d+:\d+\]\s*$/, '')
        .replace(/^\[\d+:\d+\]\s*/, '')
        .replace(/\s-c\s+\d+\s+\d+/, ''),
    );
}

/** Top-level directory names of every cgroup hierarchy mount, one section per mount point. */
function cgroupSections(): Record<string, string[] | null> {
  const out: Record<string, string[] | null> = {};
  for (const m of cgroupMounts()) {
    const dirs = listDir(m.mountPoint);
    out[`cgroup ${m.mountPoint}`] = dirs === null ? null : dirs.filter((d) => d.endsWith('/'));
  }
  return out;
}

/** /run/containerd top-level entries, plus the entries of its runc/, s/ and fifo/ directories. */
function runContainerd(root = '/run/containerd'): string[] | null {
  const top = listDir(root);
  if (top === null) return null;
  const out = [...top];
  for (const sub of ['runc', 's', 'fifo']) {
    for (const e of listDir(path.join(root, sub)) ?? []) out.push(`${sub}/${e}`);
  }
  return out.sort();
}

/** Mount points under /run and the temp directory (netns bind mounts, container rootfs, shm). */
function mounts(): string[] {
  const tmp = os.tmpdir().replace(/\/+$/, '');
  const out = new Set<string>();
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const p = unescapeMountField(mp);
    if (p === '/run/netns' || p.startsWith('/run/netns/') || p.startsWith('/run/containerd') || p === tmp || p.startsWith(`${tmp}/`)) {
      out.add(p);
    }
  }
  return [...out].sort();
}

export function takeHostSnapshot(): HostSnapshot {
  return {
    takenAt: new Date().toISOString(),
    sections: {
      links: links(),
      'routes ipv4': routes('-4'),
      'routes ipv6': routes('-6'),
      'iptables-save': netfilter('iptables-save'),
      'ip6tables-save': netfilter('ip6tables-save'),
      '/etc/cni/net.d': listDir('/etc/cni/net.d'),
      ...cgroupSections(),
      '/run/containerd': runContainerd(),
      '/run/netns': listDir('/run/netns'),
      mounts: mounts(),
    },
  };
}

/** Lines of `a` that are not in `b`, counting duplicates. */
function minus(a: string[], b: string[]): string[] {
  const counts = new Map<string, number>();
  for (const l of b) counts.set(l, (counts.get(l) ?? 0) + 1);
  const out: string[] = [];
  for (const l of a) {
    const n = counts.get(l) ?? 0;
    if (n > 0) counts.set(l, n - 1);
    else out.push(l);
  }
  return out;
}

/** Human-readable differences from `before` to `after` (`<section>: + line`, `- line`, appeared, vanished); empty when equal. */
export function diffHostSnapshot(before: HostSnapshot, after: HostSnapshot): string[] {
  const out: string[] = [];
  const names = [...new Set([...Object.keys(before.sections), ...Object.keys(after.sections)])];
  for (const name of names) {
    const a = before.sections[name];
    const b = after.sections[name];
    if (a === undefined) {
      out.push(`${name}: new section${b ? ` (${b.join(', ')})` : ''}`);
      continue;
    }
    if (b === undefined) {
      out.push(`${name}: section gone`);
      continue;
    }
    if (a === null && b === null) continue;
    if (a === null) {
      out.push(`${name}: appeared${b!.length ? ` with ${b!.join(', ')}` : ' (empty)'}`);
      continue;
    }
    if (b === null) {
      out.push(`${name}: vanished (had ${a.length ? a.join(', ') : 'nothing'})`);
      continue;
    }
    const removed = minus(a, b);
    const added = minus(b, a);
    for (const l of removed) out.push(`${name}: - ${l}`);
    for (const l of added) out.push(`${name}: + ${l}`);
    if (!removed.length && !added.length && a.join('\n') !== b.join('\n')) out.push(`${name}: same lines in a different order`);
  }
  return out;
}
