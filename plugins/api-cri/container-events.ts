// GetContainerEvents (the kubelet's evented PLEG) from kukeon's watch of the CRI realm's containers: their records
// and their task exits. CREATED when a container's record appears, STARTED when it runs with a pid not seen before,
// STOPPED once when it ends (its exit, or a record that says it ended), DELETED when its record goes.

import type { State, WatchEvent } from '../../sdk';

export type ContainerEventType =
  | 'CONTAINER_CREATED_EVENT'
  | 'CONTAINER_STARTED_EVENT'
  | 'CONTAINER_STOPPED_EVENT'
  | 'CONTAINER_DELETED_EVENT';

/** What was last told of one container. */
export interface SeenContainer {
  pid?: number;
  ended: boolean;
}

const RUNNING: ReadonlySet<State | undefined> = new Set<State | undefined>(['Ready', 'Degraded']);
const ENDED: ReadonlySet<State | undefined> = new Set<State | undefined>(['Exited', 'Stopped', 'Failed']);

/** The CRI event a watch event makes, if any, and what is then known of the container (undefined once deleted). */
export function containerEventOf(e: WatchEvent, last: SeenContainer | undefined): { type?: ContainerEventType; seen?: SeenContainer } {
  if (e.type === 'DELETED') return { type: 'CONTAINER_DELETED_EVENT' };
  if (e.type === 'EXIT') {
    return last?.ended ? { seen: last } : { type: 'CONTAINER_STOPPED_EVENT', seen: { ...last, ended: true } };
  }
  const status = (e.doc?.status ?? {}) as { state?: State; pid?: number };
  if (e.type === 'ADDED' && !last) return { type: 'CONTAINER_CREATED_EVENT', seen: { pid: status.pid, ended: false } };
  if (RUNNING.has(status.state) && status.pid && status.pid !== last?.pid)
    return { type: 'CONTAINER_STARTED_EVENT', seen: { pid: status.pid, ended: false } };
  if (ENDED.has(status.state) && last && !last.ended) return { type: 'CONTAINER_STOPPED_EVENT', seen: { ...last, ended: true } };
  return { seen: last ?? { pid: status.pid, ended: ENDED.has(status.state) } };
}
