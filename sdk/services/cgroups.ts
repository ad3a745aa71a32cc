import type { DiagnoseService } from './diagnose';

/** `cgroups.diagnose`: the cgroup layout, the mount, available and delegated controllers. */
export type CgroupsDiagnose = DiagnoseService;

/**
 * `cgroups.oom`: how many times the kernel's OOM killer killed a process in a container's cgroup (memory.events
 * `oom_kill` on cgroup v2, memory.oom_control on v1); undefined when the cgroup or the counter is not there.
 */
export interface OomService {
  oomKills(cellPath: readonly string[], container: string, isRoot: boolean): number | undefined;
}
