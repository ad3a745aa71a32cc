// What a cell's failed start may not leave in the backends: tasks and containers in containerd, an IPAM lease,
// a cached CNI result, a veth in the harness's namespace. Read with ctr and ip inside the harness's netns.

import fs from 'node:fs';
import path from 'node:path';
import type { E2EHarness } from '../e2e/harness';

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** containerd task, container, lease or snapshot ids (`what`) of a realm's namespace. */
export async function containerdIds(
  h: E2EHarness,
  realm: string,
  what: 'tasks' | 'containers' | 'leases' | 'snapshots',
): Promise<string[]> {
  const quiet = what === 'snapshots' ? [] : ['-q'];
  const r = await h.ctr(['-n', `kukeon-${realm}`, what, 'ls', ...quiet]);
  if (r.code !== 0 && !/not found/.test(r.stderr)) throw new Error(`ctr ${what} ls: ${r.stderr}`);
  const ids = lines(r.stdout);
  // `snapshots ls` has a header line and columns
  return (what === 'snapshots' ? ids.slice(1).map((l) => l.split(/\s+/)[0]) : ids).sort();
}

/** Host-local leases of a realm's space network (file names that are addresses). */
export function leases(ipamDir: string, realm: string, space: string): string[] {
  const dir = path.join(ipamDir, `kukeon.${realm}.${space}`);
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
}

/** Cached ADD results (file names) whose container id contains `match`. */
export function cachedResults(cacheDir: string, match = ''): string[] {
  const dir = path.join(cacheDir, 'results');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.includes(match));
}

/** Veth interfaces in the harness's namespace. */
export async function veths(h: E2EHarness): Promise<string[]> {
  const r = await h.exec('ip', ['-o', 'link', 'show', 'type', 'veth']);
  return lines(r.stdout).map((l) => l.split(':')[1].trim().split('@')[0]);
}
