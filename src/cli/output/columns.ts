// The columns `kuke get` prints per kind (upstream's), and the extra ones with `-o wide`.

import type { AnyDoc, CellContainerStatus, ContainerStatus, Kind, ScopedKind } from '../../../sdk';

type Column = { header: string; value: (doc: AnyDoc) => string };

/** `5m`, `3h`, `2d`: time since the resource was created. */
export function age(createdAt: string | undefined, now = Date.now()): string {
  if (!createdAt) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const spec = (d: AnyDoc) => d.spec as unknown as Record<string, unknown>;
const status = (d: AnyDoc) => (d.status ?? {}) as Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : String(v));

const NAME: Column = { header: 'NAME', value: (d) => d.metadata.name };
const REALM: Column = { header: 'REALM', value: (d) => str(spec(d).realmId) };
const SPACE: Column = { header: 'SPACE', value: (d) => str(spec(d).spaceId) };
const STACK: Column = { header: 'STACK', value: (d) => str(spec(d).stackId) };
const CELL: Column = { header: 'CELL', value: (d) => str(spec(d).cellId) };
const STATE: Column = { header: 'STATE', value: (d) => str(status(d).state ?? 'Unknown') };
const AGE: Column = { header: 'AGE', value: (d) => age(status(d).createdAt as string | undefined) };

/** A cell's containers as `get` returns them (`status.containerStatuses`); absent from stored documents (`-w`). */
const containerStatuses = (d: AnyDoc) => status(d).containerStatuses as CellContainerStatus[] | undefined;
/** `2/3`: running containers of the declared ones (workloads and a declared root; a synthesized root is not one). */
const READY: Column = {
  header: 'READY',
  value: (d) => {
    const cs = containerStatuses(d);
    return cs ? `${cs.filter((c) => c.state === 'Ready').length}/${cs.length}` : '-';
  },
};
/** The sum of the cell's containers' restart counts. */
const CELL_RESTARTS: Column = {
  header: 'RESTARTS',
  value: (d) => {
    const cs = containerStatuses(d);
    return cs ? String(cs.reduce((n, c) => n + (c.restartCount ?? 0), 0)) : '-';
  },
};

/**
 * Why a container is not running, with its exit: `Error (exit 3)`, `Killed (SIGKILL)`, `OOMKilled`, `Completed`,
 * `CrashLoopBackOff`. Without a recorded reason, the exit code says `Completed` or `Error` (Kubernetes' words).
 */
export function containerReason(s: Partial<ContainerStatus>): string {
  if (s.state === 'Ready') return '-'; // a reason left from before its last restart is not why it runs
  const exited = s.exitCode !== undefined || s.exitSignal !== undefined;
  if (!s.reason && !exited) return '-';
  const reason = s.reason ?? (s.state === 'Stopped' ? 'Stopped' : s.exitSignal ? 'Killed' : s.exitCode === 0 ? 'Completed' : 'Error');
  if (s.exitSignal) return `${reason} (${s.exitSignal})`;
  return s.exitCode ? `${reason} (exit ${s.exitCode})` : reason;
}

/** `1.25s` of CPU, `12.4Mi` of memory: the cgroups plugin's live stats (`status.stats`), `-` without one. */
const stats = (d: AnyDoc) => (status(d).stats ?? {}) as { cpuUsageUsec?: number; memoryCurrent?: number; pidsCurrent?: number };
/** `512`, `12.4Mi`: a size in bytes with a binary suffix, `-` when unknown (get -o wide, top). */
export function bytes(n: number | undefined): string {
  if (n === undefined) return '-';
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? String(n) : `${n.toFixed(1)}${units[i]}`;
}
const STATS: Column[] = [
  { header: 'CPU', value: (d) => (stats(d).cpuUsageUsec === undefined ? '-' : `${(stats(d).cpuUsageUsec! / 1e6).toFixed(2)}s`) },
  { header: 'MEMORY', value: (d) => bytes(stats(d).memoryCurrent) },
  { header: 'PIDS', value: (d) => str(stats(d).pidsCurrent) },
];

/** A scoped document's place is in its metadata (`realm`, `space`, `stack`). */
const meta = (d: AnyDoc) => d.metadata as unknown as Record<string, unknown>;

/** Secrets print their own table (print-secrets.ts: never a value). */
export const COLUMNS: Record<Kind | Exclude<ScopedKind, 'Secret'>, { base: Column[]; wide: Column[] }> = {
  Volume: {
    base: [
      NAME,
      { header: 'REALM', value: (d) => str(meta(d).realm) },
      { header: 'SPACE', value: (d) => str(meta(d).space) },
      { header: 'STACK', value: (d) => str(meta(d).stack) },
      { header: 'RECLAIM', value: (d) => str(spec(d).reclaimPolicy ?? 'Delete') },
      { header: 'MOUNTED-BY', value: (d) => str(((status(d).mountedBy as string[] | undefined) ?? []).join(',')) },
      AGE,
    ],
    wide: [{ header: 'PATH', value: (d) => str(status(d).path) }],
  },
  Realm: {
    base: [NAME, STATE, AGE],
    wide: [{ header: 'NAMESPACE', value: (d) => str(status(d).namespace ?? spec(d).namespace ?? `kukeon-${d.metadata.name}`) }],
  },
  Space: {
    base: [NAME, REALM, STATE, AGE],
    wide: [
      { header: 'SUBNET', value: (d) => str((status(d).network as { subnet?: string } | undefined)?.subnet) },
      { header: 'BRIDGE', value: (d) => str((status(d).network as { bridge?: string } | undefined)?.bridge) },
    ],
  },
  Stack: { base: [NAME, REALM, SPACE, STATE, AGE], wide: [{ header: 'CGROUP', value: (d) => str(status(d).cgroupPath) }] },
  Cell: {
    base: [NAME, REALM, SPACE, STACK, STATE, READY, CELL_RESTARTS, AGE],
    wide: [
      { header: 'CONTAINERS', value: (d) => String(((spec(d).containers as unknown[]) ?? []).length) },
      { header: 'IP', value: (d) => str(status(d).ip) },
      { header: 'REASON', value: (d) => str(status(d).reason) },
      ...STATS,
    ],
  },
  Container: {
    base: [
      NAME,
      REALM,
      SPACE,
      STACK,
      CELL,
      STATE,
      { header: 'REASON', value: (d) => containerReason(status(d)) },
      { header: 'RESTARTS', value: (d) => String(status(d).restartCount ?? 0) },
      AGE,
    ],
    wide: [
      { header: 'IMAGE', value: (d) => str(spec(d).image) },
      { header: 'PID', value: (d) => str(status(d).pid) },
      { header: 'EXIT', value: (d) => str(status(d).exitCode) },
      ...STATS,
    ],
  },
};
