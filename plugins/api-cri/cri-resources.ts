// CRI's LinuxContainerResources as kukeon `resources`, for CreateContainer and UpdateContainerResources alike:
// cpu quota and period as cpu.max, shares as cpu.weight (runc's conversion), the memory limit as memory.max. What
// kukeon's resources do not hold (cpusets, hugepages, swap) is not applied; 0 means "not set", as in the kubelet.

import { cpuSharesToWeight } from '../../sdk';
import type { Resources } from '../../sdk';
import type { CriMessage } from './cri-records';

export function criResources(r: CriMessage | undefined): Resources | undefined {
  if (!r) return undefined;
  const out: Resources = {};
  const quota = Number(r.cpu_quota ?? 0);
  const period = Number(r.cpu_period ?? 0) || 100_000;
  if (quota > 0) out.cpu = { max: `${quota} ${period}` };
  const shares = Number(r.cpu_shares ?? 0);
  if (shares > 0) out.cpu = { ...out.cpu, weight: cpuSharesToWeight(shares) };
  const mem = Number(r.memory_limit_in_bytes ?? 0);
  if (mem > 0) out.memory = { max: mem };
  return Object.keys(out).length ? out : undefined;
}

/**
 * What ContainerStatus reports as the container's `resources` (CRI 0.26, read by the kubelet's in-place resize):
 * the limits asked for that kukeon applies, as CRI numbers; undefined when none is set.
 */
export function appliedCriResources(r: CriMessage | undefined): CriMessage | undefined {
  const applied = criResources(r);
  if (!applied) return undefined;
  const quota = applied.cpu?.max ? Number(r?.cpu_quota) : 0;
  return {
    linux: {
      cpu_period: String(quota > 0 ? Number(r?.cpu_period ?? 0) || 100_000 : 0),
      cpu_quota: String(quota),
      cpu_shares: String(applied.cpu?.weight ? Number(r?.cpu_shares) : 0),
      memory_limit_in_bytes: String(applied.memory?.max ?? 0),
    },
  };
}
