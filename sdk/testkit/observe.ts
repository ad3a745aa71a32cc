// What the cell suites look at from outside kukeon: /proc and the cgroup2 mount. Nothing here asks a plugin; a
// plugin is judged by what it leaves on the machine.

import fs from 'node:fs';
import path from 'node:path';

/** True while `pid` is a live process (a zombie is dead: it only waits to be reaped). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat
      .slice(stat.lastIndexOf(')') + 1)
      .trim()
      .split(/\s+/)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live process with its command line (one pass over /proc; a process gone meanwhile is skipped). */
export function liveProcesses(): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (alive(pid)) out.push({ pid, argv });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Live processes whose command line is `sleep <marker>` (the kit's workloads), by pid. */
export function markerPids(marker: string): number[] {
  return liveProcesses()
    .filter(({ argv }) => path.basename(argv[0] ?? '') === 'sleep' && argv[1] === marker)
    .map(({ pid }) => pid);
}

/** Live processes in the network namespace `netns` (a /proc/<pid>/ns/net link, `net:[inode]`), as `pid cmdline`. */
export function processesInNetns(netns: string): string[] {
  const inNetns = (pid: number) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/ns/net`) === netns;
    } catch {
      return false;
    }
  };
  return liveProcesses()
    .filter(({ pid }) => inNetns(pid))
    .map(({ pid, argv }) => `${pid} ${argv.filter(Boolean).join(' ')}`);
}

/** Interfaces in the network namespace of `pid` (from /proc/<pid>/net/dev), or undefined when it is gone. */
export function interfacesOf(pid: number | undefined): string[] | undefined {
  if (!pid) return undefined;
  try {
    return fs
      .readFileSync(`/proc/${pid}/net/dev`, 'utf8')
      .split('\n')
      .slice(2)
      .map((l) => l.split(':')[0].trim())
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

/** True when `ip` is a local address of the network namespace of `pid` (from /proc/<pid>/net/fib_trie). */
export function hasLocalAddress(pid: number | undefined, ip: string): boolean {
  if (!pid) return false;
  try {
    const lines = fs.readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8').split('\n');
    return lines.some((l, i) => l.trim() === `|-- ${ip}` && /host LOCAL/.test(lines[i + 1] ?? ''));
  } catch {
    return false;
  }
}

/** The cgroup2 mount point (`/sys/fs/cgroup`, or `/sys/fs/cgroup/unified` on a hybrid host). */
export function cgroup2Mount(): string | undefined {
  try {
    for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const sep = line.indexOf(' - ');
      if (sep > 0 && line.slice(sep + 3).startsWith('cgroup2 '))
        return line
          .slice(0, sep)
          .split(' ')[4]
          ?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** The directory of a `cgroupPath` (relative to the cgroup2 mount, as the cgroups slot stores it). */
export function cgroupDir(cgroupPath: string | undefined): string | undefined {
  const mount = cgroup2Mount();
  return mount && cgroupPath ? path.join(mount, cgroupPath) : undefined;
}

/** Every cgroup path `pid` is in, one per hierarchy (from /proc/<pid>/cgroup). */
export function cgroupsOf(pid: number | undefined): string[] {
  if (!pid) return [];
  try {
    return fs
      .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .map((l) => l.split(':').slice(2).join(':'))
      .filter(Boolean);
  } catch {
    return [];
  }
}
