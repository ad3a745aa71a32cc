// A cell's `status.containerStatuses` (Kubernetes' containerStatuses): each declared container's live status, in
// the order of `spec.containers`, for what `get` and `describe` return. Never stored: each container's status
// lives in its own document.

import type { CellContainerStatus, CellDoc, ContainerStatus } from '../../../sdk';
import { rootIdOf } from './cell-documents';

export function withContainerStatuses(cell: CellDoc, live: Record<string, ContainerStatus>): CellDoc {
  const rootId = rootIdOf(cell.spec);
  const containerStatuses = (cell.spec.containers ?? []).map((c): CellContainerStatus => {
    const s = live[c.id] ?? {};
    return {
      name: c.id,
      ...(c.id === rootId ? { root: true } : {}),
      state: s.state,
      reason: s.reason,
      message: s.message,
      exitCode: s.exitCode,
      exitSignal: s.exitSignal,
      restartCount: s.restartCount ?? 0,
      startTime: s.startTime,
      finishTime: s.finishTime,
      restartTime: s.restartTime,
      nextRestartAt: s.nextRestartAt,
    };
  });
  // JSON drops the unset fields; YAML would print them as null
  const compact = containerStatuses.map(
    (c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as CellContainerStatus,
  );
  return { ...cell, status: { ...(cell.status ?? {}), containerStatuses: compact } };
}
