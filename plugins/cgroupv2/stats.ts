// Live usage of a cgroup for `get -o wide`: from the cgroup2 files where the host has them, else from the v1
// hierarchies runc filled on a hybrid host (cpuacct.usage is in nanoseconds, cpu.stat in microseconds).

import type { CgroupStats } from '../../sdk';
import type { CgroupTree } from './tree';

const num = (text: string | undefined): number | undefined => {
  const n = Number((text ?? '').trim());
  return text !== undefined && text.trim() !== '' && Number.isFinite(n) ? n : undefined;
};

/** Undefined when the cgroup exists in no hierarchy (a stopped container, a cell never started). */
export function readStats(tree: CgroupTree, rel: string): CgroupStats | undefined {
  const { v2 } = tree;
  const usage = /^usage_usec (\d+)/m.exec(v2.read(rel, 'cpu.stat') ?? '');
  const v1 = (controller: string, file: string) => num(tree.v1For(controller)?.read(rel, file));
  const cpuNs = usage ? undefined : v1('cpuacct', 'cpuacct.usage');
  const stats: CgroupStats = {
    cpuUsageUsec: usage ? Number(usage[1]) : cpuNs === undefined ? undefined : Math.floor(cpuNs / 1000),
    memoryCurrent: num(v2.read(rel, 'memory.current')) ?? v1('memory', 'memory.usage_in_bytes'),
    pidsCurrent: num(v2.read(rel, 'pids.current')) ?? v1('pids', 'pids.current'),
  };
  for (const k of Object.keys(stats) as (keyof CgroupStats)[]) if (stats[k] === undefined) delete stats[k];
  return Object.keys(stats).length ? stats : undefined;
}
