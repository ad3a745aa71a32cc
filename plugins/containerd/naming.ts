// containerd names for kukeon resources: one namespace per realm, readable container ids when they fit
// containerd's 76-character limit, and the labels kukeon puts on everything it creates.

import { createHash } from 'node:crypto';
import type { RealmDoc } from '../../sdk';

export const MAX_CONTAINERD_ID = 76;
export const ROOT_LEAF = 'root';

export const LABELS = {
  realm: 'kukeon.io/realm',
  space: 'kukeon.io/space',
  stack: 'kukeon.io/stack',
  cell: 'kukeon.io/cell',
  container: 'kukeon.io/container',
  role: 'kukeon.io/role',
  /** On a namespace kukeon created (so purge never deletes one it did not make). */
  managed: 'kukeon.io/managed',
} as const;

export function namespaceOf(realm: string, doc?: RealmDoc): string {
  return doc?.spec.namespace ?? `kukeon-${realm}`;
}

/** The system realm: its kukeond cannot be supervised by the daemon it is, so containerd's restart monitor does. */
export const SYSTEM_REALM = 'kukeon-system';

/** containerd's restart monitor (plugin io.containerd.internal.v1.restart): desired status and where the restarted task logs. */
export const RESTART_LABELS = {
  status: 'containerd.io/restart.status',
  logUri: 'containerd.io/restart.loguri',
} as const;

/** `<space>_<stack>_<cell>_<container>`, or `k-` + 16 hex digits of a hash of the full path when that is too long. */
export function containerdId(cellPath: readonly string[], container: string): string {
  const [, space, stack, cell] = cellPath;
  const readable = `${space}_${stack}_${cell}_${container}`;
  if (readable.length <= MAX_CONTAINERD_ID) return readable;
  return `k-${createHash('sha256')
    .update([...cellPath, container].join('/'))
    .digest('hex')
    .slice(0, 16)}`;
}

export function labelsFor(cellPath: readonly string[], container: string, role: 'root' | 'workload'): Record<string, string> {
  const [realm, space, stack, cell] = cellPath;
  return {
    [LABELS.realm]: realm,
    [LABELS.space]: space,
    [LABELS.stack]: stack,
    [LABELS.cell]: cell,
    [LABELS.container]: container,
    [LABELS.role]: role,
  };
}

/** A containerd filter matching everything kukeon made under `path` (a realm, space, stack or cell path). */
export function labelFilter(path: readonly string[]): string {
  const keys = [LABELS.realm, LABELS.space, LABELS.stack, LABELS.cell];
  return path.map((name, i) => `labels."${keys[i]}"==${name}`).join(',');
}
