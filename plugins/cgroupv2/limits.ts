// `resources` (one shape at every level, cgroup v2 names) as the cgroup v2 files that hold them, with the
// controller each file belongs to and the value that undoes it.

import type { NormalizedResources } from '../../sdk';

export interface LimitEntry {
  /** Where it came from in the document (`spec.resources.cpu.max`), for errors. */
  field: string;
  controller: 'cpu' | 'memory' | 'pids' | 'io';
  file: 'cpu.max' | 'cpu.weight' | 'memory.max' | 'memory.high' | 'pids.max' | 'io.weight';
  value: string;
}

/** The kernel's default for each limit file: written when a limit is removed from a spec. */
export const LIMIT_DEFAULTS: Readonly<Record<LimitEntry['file'], string>> = {
  'cpu.max': 'max',
  'cpu.weight': '100',
  'memory.max': 'max',
  'memory.high': 'max',
  'pids.max': 'max',
  'io.weight': '100',
};

export function limitEntries(r: NormalizedResources | undefined, field = 'spec.resources'): LimitEntry[] {
  const out: LimitEntry[] = [];
  const add = (controller: LimitEntry['controller'], file: LimitEntry['file'], key: string, value: string | number | undefined) => {
    if (value !== undefined) out.push({ field: `${field}.${key}`, controller, file, value: String(value) });
  };
  add('cpu', 'cpu.max', 'cpu.max', r?.cpu?.max);
  add('cpu', 'cpu.weight', 'cpu.weight', r?.cpu?.weight);
  add('memory', 'memory.max', 'memory.max', r?.memory?.max);
  add('memory', 'memory.high', 'memory.high', r?.memory?.high);
  add('pids', 'pids.max', 'pids.max', r?.pids?.max);
  add('io', 'io.weight', 'io.weight', r?.io?.weight);
  return out;
}
