// What `kuke top` measures: each cell's and container's cgroup counters (from the cgroups plugin's status tap,
// through get) and each cell's network counters (its root's network namespace, /proc/<pid>/net/dev), sampled
// twice so CPU and network become rates, as `docker stats` shows them.

import fs from 'node:fs';
import type { AnyDoc, CellDoc, CgroupStats } from '../../../sdk';

export interface UsageSample {
  at: number;
  /** By `realm/space/stack/cell` and `realm/space/stack/cell/container`. */
  stats: Map<string, CgroupStats | undefined>;
  /** Bytes received and sent on the cell's interfaces other than lo, by cell path. */
  net: Map<string, { rx: number; tx: number } | undefined>;
}

export interface UsageRow {
  cell: string;
  container?: string;
  state: string;
  cpuPercent?: number;
  memoryBytes?: number;
  pids?: number;
  netRxBytes?: number;
  netTxBytes?: number;
  netRxRate?: number;
  netTxRate?: number;
}

const pathOfCell = (c: CellDoc) => [c.spec.realmId, c.spec.spaceId, c.spec.stackId, c.metadata.name].join('/');

/** rx and tx bytes of every interface but lo in the network namespace of `pid`; undefined when unreadable. */
function netOf(pid: number | undefined): { rx: number; tx: number } | undefined {
  if (!pid) return undefined;
  try {
    let rx = 0;
    let tx = 0;
    for (const line of fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m || m[1] === 'lo') continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      rx += f[0];
      tx += f[8];
    }
    return { rx, tx };
  } catch {
    return undefined;
  }
}

export function takeSample(cells: CellDoc[], containers: AnyDoc[]): UsageSample {
  const stats = new Map<string, CgroupStats | undefined>();
  const net = new Map<string, { rx: number; tx: number } | undefined>();
  for (const c of cells) {
    const p = pathOfCell(c);
    stats.set(p, c.status?.stats);
    // a hostNetwork cell shares the host's counters: not the cell's own traffic
    if (c.status?.network?.state !== 'Host') net.set(p, netOf(c.status?.root?.pid));
  }
  for (const d of containers) {
    const s = d.spec as { realmId?: string; spaceId?: string; stackId?: string; cellId?: string };
    stats.set([s.realmId, s.spaceId, s.stackId, s.cellId, d.metadata.name].join('/'), (d.status as { stats?: CgroupStats })?.stats);
  }
  return { at: Date.now(), stats, net };
}

/** One row per cell, then one per container of it, with rates between `before` and `after`. */
export function usageRows(cells: CellDoc[], before: UsageSample, after: UsageSample): UsageRow[] {
  const seconds = Math.max((after.at - before.at) / 1000, 0.001);
  const cpu = (key: string) => {
    const a = before.stats.get(key)?.cpuUsageUsec;
    const b = after.stats.get(key)?.cpuUsageUsec;
    return a === undefined || b === undefined ? undefined : Math.max(0, (b - a) / 1e6 / seconds) * 100;
  };
  const rows: UsageRow[] = [];
  for (const c of cells) {
    const p = pathOfCell(c);
    const s = after.stats.get(p);
    const n0 = before.net.get(p);
    const n1 = after.net.get(p);
    rows.push({
      cell: p,
      state: c.status?.state ?? 'Unknown',
      cpuPercent: cpu(p),
      memoryBytes: s?.memoryCurrent,
      pids: s?.pidsCurrent,
      netRxBytes: n1?.rx,
      netTxBytes: n1?.tx,
      netRxRate: n0 && n1 ? Math.max(0, n1.rx - n0.rx) / seconds : undefined,
      netTxRate: n0 && n1 ? Math.max(0, n1.tx - n0.tx) / seconds : undefined,
    });
    for (const ct of c.spec.containers ?? []) {
      const key = `${p}/${ct.id}`;
      const st = c.status?.containerStatuses?.find((x) => x.name === ct.id);
      rows.push({
        cell: p,
        container: ct.id,
        state: st?.state ?? 'Unknown',
        cpuPercent: cpu(key),
        memoryBytes: after.stats.get(key)?.memoryCurrent,
        pids: after.stats.get(key)?.pidsCurrent,
      });
    }
  }
  return rows;
}
