// `cgroups.oom`: the OOM killer's count for one cgroup, read when asked (the supervisor reads it once per exit,
// never polls): `oom_kill` of memory.events on cgroup v2, else of memory.oom_control in runc's v1 memory
// hierarchy (a hybrid host). Undefined when the cgroup is gone or the kernel has no such counter.

import type { CgroupTree } from './tree';

const counter = (text: string | undefined): number | undefined => {
  const m = /^oom_kill (\d+)$/m.exec(text ?? '');
  return m ? Number(m[1]) : undefined;
};

export function readOomKills(tree: CgroupTree, rel: string): number | undefined {
  return counter(tree.v2.read(rel, 'memory.events')) ?? counter(tree.v1For('memory')?.read(rel, 'memory.oom_control'));
}
