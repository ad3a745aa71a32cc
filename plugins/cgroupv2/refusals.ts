// Which limits this host cannot honour, decided before anything is written (the validate hook and the writers
// both ask): each error names the field, the controller and the host's layout, never a bare EACCES.

import { KukeonError } from '../../sdk';
import type { CgroupFs } from './cgroup-fs';
import type { CgroupLayout } from './layout';
import { v1HierarchyOf } from './layout';
import type { LimitEntry } from './limits';

const PLUGIN = 'cgroupv2';
const DOCTOR = 'kuke doctor lists the controllers and how to get the missing ones';

/** `hybrid (cgroup2 at /sys/fs/cgroup/unified offers: hugetlb)`. */
export function layoutSummary(layout: CgroupLayout, offered: readonly string[]): string {
  return `${layout.kind} (cgroup2 at ${layout.unified} offers: ${offered.length ? offered.join(' ') : 'nothing'})`;
}

/** Limits of a realm, space, stack or cell go into cgroup2 files: the mount must offer their controllers. */
export function levelRefusal(layout: CgroupLayout, v2: CgroupFs, entries: readonly LimitEntry[]): KukeonError | undefined {
  if (!entries.length) return undefined;
  const offered = v2.controllers('');
  const missing = entries.find((e) => !offered.includes(e.controller));
  if (!missing) return undefined;
  const v1 = v1HierarchyOf(layout, missing.controller);
  const where = v1 ? `; ${missing.controller} is bound to the cgroup v1 hierarchy ${v1.mountPoint}` : '';
  return new KukeonError(
    'KUKEON_E_CGROUP_CONTROLLER',
    `${missing.field} needs the ${missing.controller} controller, which this host's cgroup2 does not offer: layout ${layoutSummary(layout, offered)}${where}; nothing was written`,
    { field: missing.field, plugin: PLUGIN, hint: DOCTOR },
  );
}

/**
 * Container limits are enforced by runc. On a hybrid host runc uses its v1 driver: cpu, memory and pids need
 * their v1 hierarchy, and memory.high and io.weight have no v1 equivalent. On pure v2 the mount must offer them.
 */
export function containerRefusal(layout: CgroupLayout, v2: CgroupFs, entries: readonly LimitEntry[]): KukeonError | undefined {
  if (layout.kind !== 'hybrid') return levelRefusal(layout, v2, entries);
  const noV1 = entries.find((e) => e.file === 'memory.high' || e.file === 'io.weight');
  if (noV1) {
    return new KukeonError(
      'KUKEON_E_CGROUP_HYBRID',
      `${noV1.field} has no cgroup v1 equivalent, and on this host (layout ${layoutSummary(layout, v2.controllers(''))}) runc enforces container limits through cgroup v1`,
      {
        field: noV1.field,
        plugin: PLUGIN,
        hint: 'use memory.max or cpu.weight instead, or run kukeon on a pure cgroup v2 host; kuke doctor explains',
      },
    );
  }
  const missing = entries.find((e) => !v1HierarchyOf(layout, e.controller));
  if (!missing) return undefined;
  return new KukeonError(
    'KUKEON_E_CGROUP_CONTROLLER',
    `${missing.field} needs the ${missing.controller} controller, which neither this host's cgroup2 nor a cgroup v1 hierarchy offers (layout ${layoutSummary(layout, v2.controllers(''))})`,
    { field: missing.field, plugin: PLUGIN, hint: DOCTOR },
  );
}
