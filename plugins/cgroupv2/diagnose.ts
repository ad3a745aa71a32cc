// `kuke doctor` for cgroups: the layout, the cgroup2 mount, which controllers it offers and has delegated to
// children, and for each controller kukeon's limits use, what works here and how to get what is missing.

import type { Diagnosis } from '../../sdk';
import { v1HierarchyOf } from './layout';
import type { CgroupTree } from './tree';

const PURE_V2 = 'boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all (pure cgroup v2)';

// The limits of each controller, and the kernel option that provides it.
const CONTROLLERS = [
  { name: 'cpu', limits: 'cpu.max, cpu.weight', kconfig: 'CONFIG_CGROUP_SCHED' },
  { name: 'memory', limits: 'memory.max, memory.high', kconfig: 'CONFIG_MEMCG' },
  { name: 'pids', limits: 'pids.max', kconfig: 'CONFIG_CGROUP_PIDS' },
  { name: 'io', limits: 'io.weight', kconfig: 'CONFIG_BLK_CGROUP' },
] as const;

export function diagnose(tree: CgroupTree): Diagnosis[] {
  const { layout, v2 } = tree;
  const offered = v2.controllers('');
  const delegated = v2.subtreeControl('');
  const out: Diagnosis[] = [];
  const v1 = layout.v1.map((h) => `${h.controllers.join(',')} (${h.mountPoint})`).join(', ');
  out.push(
    layout.kind === 'v2'
      ? { check: 'layout', status: 'ok', detail: `v2: cgroup2 at ${layout.unified}, no cgroup v1 hierarchies; runc uses its v2 driver` }
      : {
          check: 'layout',
          status: 'warn',
          detail: `hybrid: cgroup2 at ${layout.unified} beside cgroup v1 hierarchies ${v1}; runc uses its v1 driver and also makes each container's directories in every v1 hierarchy (kukeon removes them on delete and purge)`,
          remedy: `${PURE_V2}, to put limits on realms, spaces, stacks and cells`,
        },
  );
  const rootPath = v2.path(tree.root);
  out.push({
    check: 'root',
    status: 'ok',
    detail: `${rootPath} ${v2.exists(tree.root) ? 'exists' : 'is created with the first realm'}; status paths are relative to ${layout.unified}`,
  });
  out.push({
    check: 'controllers',
    status: 'ok',
    detail: `${layout.unified} offers: ${offered.join(' ') || 'none'}; delegated to its children (cgroup.subtree_control): ${delegated.join(' ') || 'none'}`,
  });
  for (const c of CONTROLLERS) {
    const bound = v1HierarchyOf(layout, c.name);
    if (offered.includes(c.name)) {
      const note = delegated.includes(c.name)
        ? 'delegated'
        : 'not delegated yet: kukeon enables it in cgroup.subtree_control on the way down when a limit needs it';
      out.push({
        check: `controller ${c.name}`,
        status: 'ok',
        detail: `in cgroup2 (${note}): ${c.limits} work at every level and on containers`,
      });
      continue;
    }
    const containers =
      layout.kind === 'hybrid' && bound && c.name !== 'io'
        ? `; on containers, runc enforces ${c.name === 'memory' ? 'memory.max' : c.limits} through the v1 hierarchy ${bound.mountPoint}`
        : '; on containers they are refused too';
    out.push({
      check: `controller ${c.name}`,
      status: 'warn',
      detail: `not offered by cgroup2: ${c.limits} on realms, spaces, stacks and cells are refused (KUKEON_E_CGROUP_CONTROLLER)${containers}`,
      remedy: bound
        ? `free it from cgroup v1 (${bound.mountPoint} holds it): ${PURE_V2}`
        : `the kernel has no ${c.name} controller: build it with ${c.kconfig}`,
    });
  }
  if (layout.kind === 'hybrid') {
    out.push({
      check: 'container limits',
      status: 'warn',
      detail:
        'memory.high and io.weight on containers are refused here (KUKEON_E_CGROUP_HYBRID): runc enforces container limits through cgroup v1, which has neither; cpu.max, cpu.weight, memory.max and pids.max work',
      remedy: `use memory.max instead of memory.high, or ${PURE_V2}`,
    });
  }
  return out;
}
