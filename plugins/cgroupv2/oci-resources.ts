// A container's `resources` as the OCI spec's linux.resources, so runc enforces them with whichever driver the
// host gives it: cpu.weight becomes shares through the exact inverse of runc's shares-to-weight conversion, so
// on pure v2 runc writes back the very weight asked for. memory.high and io.weight exist only in v2 (unified).

import { parseCpuMax } from '../../sdk';
import type { NormalizedResources, OciLinuxResources } from '../../sdk';

/** The smallest cpu shares value that runc's cpuSharesToWeight maps to `weight` (1..10000 -> 2..262144). */
export function weightToShares(weight: number): number {
  return 2 + Math.ceil(((weight - 1) * 262142) / 9999);
}

export function ociResources(r: NormalizedResources | undefined, unifiedKeys: boolean): OciLinuxResources | undefined {
  if (!r) return undefined;
  const out: OciLinuxResources = {};
  const cpu: NonNullable<OciLinuxResources['cpu']> = {};
  const max = r.cpu?.max !== undefined ? parseCpuMax(r.cpu.max) : undefined;
  if (max) {
    cpu.period = max.period;
    if (max.quota !== undefined) cpu.quota = max.quota;
  }
  if (r.cpu?.weight !== undefined) cpu.shares = weightToShares(r.cpu.weight);
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.memory?.max !== undefined) out.memory = { limit: r.memory.max };
  if (r.pids?.max !== undefined) out.pids = { limit: r.pids.max };
  if (unifiedKeys) {
    const unified: Record<string, string> = {};
    if (r.memory?.high !== undefined) unified['memory.high'] = String(r.memory.high);
    if (r.io?.weight !== undefined) unified['io.weight'] = String(r.io.weight);
    if (Object.keys(unified).length) out.unified = unified;
  }
  return Object.keys(out).length ? out : undefined;
}
