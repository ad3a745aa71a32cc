import type { DiagnoseService } from './diagnose';

/** `cgroups.diagnose`: the cgroup layout, the mount, available and delegated controllers. */
export type CgroupsDiagnose = DiagnoseService;

/**
 * `cgroups.oom`: how many times the kernel's OOM killer killed a process in a container's cgroup (memory.events
 * `oom_kill` on cgroup v2, memory.oom_control on v1); undefined when the cgroup or the counter is not there.
 */
export interface OomService {
  /** `cgroupParent`: the cell's `spec.cgroupParent`, when it names one (its cgroup is there). */
  oomKills(cellPath: readonly string[], container: string, isRoot: boolean, cgroupParent?: string): number | undefined;
}
