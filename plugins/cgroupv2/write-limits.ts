// Writes a level's limits into its cgroup2 files: the controllers are enabled in cgroup.subtree_control on the
// way down from the mount (as runc's v2 driver does), then each file is written; limits no longer asked for go
// back to the kernel's default. Kernel refusals become coded errors that say what is missing, not the errno alone.

import { KukeonError } from '../../sdk';
import type { CgroupFs } from './cgroup-fs';
import { LIMIT_DEFAULTS } from './limits';
import type { LimitEntry } from './limits';

const PLUGIN = 'cgroupv2';

function refusal(err: unknown, what: string, controller: string, field?: string): KukeonError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const details = { field, plugin: PLUGIN, hint: 'kuke doctor lists the controllers this host offers' };
  if (code === 'EACCES' || code === 'ENOENT') {
    return new KukeonError(
      'KUKEON_E_CGROUP_CONTROLLER',
      `${what}: the ${controller} controller is not available there (${code})`,
      details,
      { cause: err },
    );
  }
  if (code === 'EBUSY') {
    return new KukeonError(
      'KUKEON_E_CGROUP_CONTROLLER',
      `${what}: the cgroup holds processes of its own, and cgroup v2 enables controllers only above leaves (EBUSY)`,
      details,
      { cause: err },
    );
  }
  if (code === 'EINVAL' || code === 'ERANGE')
    return new KukeonError('KUKEON_E_INVALID', `${what}: the kernel refused the value (${code})`, details, { cause: err });
  return new KukeonError('KUKEON_E_STEP', `${what}: ${(err as Error).message}`, details, { cause: err });
}

/** Enables `controllers` for the children of every cgroup from the mount down to `rel`'s parent. */
export function enableDown(v2: CgroupFs, rel: string, controllers: readonly string[]): void {
  const parts = rel.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const at = parts.slice(0, i).join('/');
    const enabled = v2.subtreeControl(at);
    for (const c of controllers.filter((c) => !enabled.includes(c))) {
      try {
        v2.write(at, 'cgroup.subtree_control', `+${c}`);
      } catch (err) {
        throw refusal(err, `cannot enable ${c} in ${v2.path(at, 'cgroup.subtree_control')}`, c);
      }
    }
  }
}

/** Writes `entries` into the cgroup `rel` (which exists) and resets the limit files it no longer sets. */
export function writeLimits(v2: CgroupFs, rel: string, entries: readonly LimitEntry[]): void {
  enableDown(v2, rel, [...new Set(entries.map((e) => e.controller))]);
  for (const e of entries) {
    try {
      v2.write(rel, e.file, e.value);
    } catch (err) {
      throw refusal(err, `${e.field}: cannot write ${e.value} to ${v2.path(rel, e.file)}`, e.controller, e.field);
    }
  }
  for (const [file, value] of Object.entries(LIMIT_DEFAULTS)) {
    if (entries.some((e) => e.file === file) || !v2.hasFile(rel, file)) continue;
    try {
      v2.write(rel, file, value);
    } catch (err) {
      throw refusal(err, `cannot reset ${v2.path(rel, file)} to ${value}`, file.split('.')[0]);
    }
  }
}
