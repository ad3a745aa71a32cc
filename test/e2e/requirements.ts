// What an end-to-end suite needs from the machine, and the guard every e2e suite goes through: without the
// requirements a suite is skipped with one clear line, unless KUKEON_E2E=required (CI), where it fails.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, type Test } from 'uvu';

export interface E2ERequirements {
  ok: boolean;
  /** Why e2e suites cannot run here (every missing piece, `; `-separated). */
  reason?: string;
}

/** Binaries the harness and kukeon's e2e paths run. */
export const E2E_BINARIES = ['containerd', 'containerd-shim-runc-v2', 'ctr', 'runc', 'ip', 'nsenter', 'catatonit'] as const;

/** Directories searched besides $PATH (ip and runc live in sbin, which a non-login PATH may lack). */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** The absolute path of an executable named `name`, or undefined. */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `\040`-style escapes of /proc/self/mountinfo fields, undone. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export interface CgroupMount {
  mountPoint: string;
  /** `cgroup` (v1) or `cgroup2`. */
  fstype: 'cgroup' | 'cgroup2';
  /** v1: the controllers (and `name=...`) from the super options; v2: empty. */
  controllers: string[];
}

/** Every cgroup (v1) and cgroup2 mount this process sees, from /proc/self/mountinfo, first occurrence of each mount point. */
export function cgroupMounts(mountinfo?: string): CgroupMount[] {
  const text = mountinfo ?? fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const out: CgroupMount[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOptions = ''] = line.slice(sep + 3).split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountPoint = unescapeMountField(left[4] ?? '');
    if (!mountPoint || seen.has(mountPoint)) continue;
    seen.add(mountPoint);
    const controllers =
      fstype === 'cgroup'
        ? superOptions
            .split(',')
            .filter(
              (o) =>
                o !== 'rw' &&
                o !== 'ro' &&
                !o.startsWith('release_agent=') &&
                o !== 'clone_children' &&
                o !== 'noprefix' &&
                o !== 'xattr' &&
                o !== 'none',
            )
        : [];
    out.push({ mountPoint, fstype, controllers });
  }
  return out;
}

/** Checks root, the binaries, /bin/busybox and a cgroup2 mount. */
export function e2eRequirements(): E2ERequirements {
  const missing: string[] = [];
  if (process.platform !== 'linux') return { ok: false, reason: `needs Linux (this is ${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) missing.push('needs root (uid 0)');
  const bins = E2E_BINARIES.filter((b) => !findBinary(b));
  if (bins.length) missing.push(`missing binaries: ${bins.join(', ')}`);
  try {
    fs.accessSync('/bin/busybox', fs.constants.X_OK);
  } catch {
    missing.push('missing /bin/busybox (Debian busybox-static)');
  }
  try {
    if (!cgroupMounts().some((m) => m.fstype === 'cgroup2')) missing.push('no cgroup2 mount in /proc/self/mountinfo');
  } catch (err) {
    missing.push(`cannot read /proc/self/mountinfo: ${(err as Error).message}`);
  }
  return missing.length ? { ok: false, reason: missing.join('; ') } : { ok: true };
}

let cached: E2ERequirements | undefined;
/** e2eRequirements(), computed once per process. */
export function e2eRequirementsCached(): E2ERequirements {
  return (cached ??= e2eRequirements());
}

/** True when KUKEON_E2E=required: missing requirements fail instead of skipping. */
export function e2eRequired(): boolean {
  return process.env.KUKEON_E2E === 'required';
}

/**
 * Declares an e2e suite. `define` registers tests on the uvu suite it gets (test, test.before, test.after, ...);
 * the suite is run afterwards. When the machine lacks what e2e needs, `define` is not called at all (so it may
 * have side effects): without KUKEON_E2E=required this prints `SKIP <name>: <reason>` and registers one skipped
 * test (uvu counts it under Skipped); with KUKEON_E2E=required it registers one failing test whose message is
 * the reason. `more` adds a suite's own requirements (checked once the common ones hold).
 */
export function e2eSuite(name: string, define: (test: Test) => void, more?: () => E2ERequirements): void {
  const base = e2eRequirementsCached();
  const extra = base.ok ? more?.() : undefined;
  const req = extra && !extra.ok ? extra : base;
  const s = suite(name);
  if (req.ok) {
    define(s);
  } else if (e2eRequired()) {
    s('e2e requirements', () => {
      throw new Error(`KUKEON_E2E=required but ${name} cannot run: ${req.reason}`);
    });
  } else {
    console.log(`SKIP ${name}: ${req.reason}`);
    s.skip(name);
  }
  s.run();
}
