import type { DiagnoseService } from './diagnose';

/** `cgroups.diagnose`: the cgroup layout, the mount, available and delegated controllers. */
export type CgroupsDiagnose = DiagnoseService;
