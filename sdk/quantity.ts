// Resource quantities: sizes in bytes or with a binary suffix, cpu.max strings, and runc's shares-to-weight map.

import type { Resources, Size } from './resources';

const SUFFIX: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** `64Mi` -> 67108864; a number is taken as bytes. Returns undefined for anything else. */
export function parseSize(size: Size): number | undefined {
  if (typeof size === 'number') return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(size);
  if (!m) return undefined;
  const bytes = Number(m[1]) * SUFFIX[m[2] ?? ''];
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `"20000 100000"`, `"max"` or `"max 100000"` -> quota (undefined for max) and period. */
export function parseCpuMax(value: string): { quota: number | undefined; period: number } | undefined {
  const m = /^(max|\d+)(?: (\d+))?$/.exec(value);
  if (!m) return undefined;
  const period = m[2] === undefined ? 100000 : Number(m[2]);
  if (period < 1000 || period > 1000000) return undefined;
  const quota = m[1] === 'max' ? undefined : Number(m[1]);
  if (quota !== undefined && quota < 1000) return undefined;
  return { quota, period };
}

/** runc's conversion of cgroup v1 cpu shares (2..262144) to cgroup v2 cpu.weight (1..10000). */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

/** Resources with every size in bytes. */
export interface NormalizedResources {
  cpu?: { max?: string; weight?: number };
  memory?: { max?: number; high?: number };
  pids?: { max?: number };
  io?: { weight?: number };
}

/** Converts validated resources to bytes; call only on documents that passed validation. */
export function normalizeResources(r: Resources | undefined): NormalizedResources | undefined {
  if (!r) return undefined;
  const out: NormalizedResources = {};
  if (r.cpu) out.cpu = { ...r.cpu };
  if (r.memory) {
    out.memory = {};
    if (r.memory.max !== undefined) out.memory.max = parseSize(r.memory.max);
    if (r.memory.high !== undefined) out.memory.high = parseSize(r.memory.high);
  }
  if (r.pids) out.pids = { ...r.pids };
  if (r.io) out.io = { ...r.io };
  return out;
}
