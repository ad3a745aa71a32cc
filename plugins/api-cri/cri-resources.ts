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
