// Apply of a cell whose record says it runs: its live tasks are compared with the spec and what is missing is
// started again, so a re-apply converges the runtime whatever the last write said (a stop or delete killed halfway
// leaves the record Ready with tasks gone). A dead root takes the cell down and it is made again as a whole (root,
// network, workloads), as the supervisor restarts it; with the root alive, the cell's start runs again: its steps
// keep what runs and a healthy attachment, and make what is missing. Both reuse the lifecycle's phases, under the
// cell's lock, so apply and the daemon's supervisor (which also examines a cell only under its lock) never race.

import { isKukeonError } from '../../../sdk';
import type { Ref, State, TaskService } from '../../../sdk';
import type { HostOperationScope } from '../operation-scope';
import { ROOT_CONTAINER_ID } from '../validation/names';
import { KILL, type Lifecycle } from './lifecycle';

/**
 * Records apply converges: a running cell. `Exited` is left alone (its workloads finished: a job is not run
 * again); `Stopped`, `Pending`, `Failed` and `Unknown` cells are started by apply as a whole already.
 */
const CONVERGED: ReadonlySet<State | undefined> = new Set<State | undefined>(['Ready', 'Degraded']);
/** A workload in one of these states ended for good (the supervisor recorded it): no task is expected. */
const ENDED: ReadonlySet<State | undefined> = new Set<State | undefined>(['Exited', 'Failed']);

/**
 * Starts what is missing of a running cell; returns what it did (empty when the tasks match the record). A cell
 * with a restart the supervisor has pending (`nextRestartAt`) is left to it: the restart keeps its backoff and count.
 */
export async function convergeCell(
  lifecycle: Lifecycle,
  tasks: Pick<TaskService, 'get'> | undefined,
  ref: Ref,
  scope: HostOperationScope,
): Promise<string[]> {
  if (!tasks) return [];
  return lifecycle.withLock(ref, scope, async () => {
    // deleted by another process since it was applied: nothing to run
    const ctx = await lifecycle.cellContext(ref, 'start', { scope }).catch((err) => {
      if (isKukeonError(err) && err.code === 'KUKEON_E_NOT_FOUND') return undefined;
      throw err;
    });
    if (!ctx) return [];
    const statuses = ctx.status.containers;
    if (!CONVERGED.has(ctx.status.state) || Object.values(statuses).some((s) => s.nextRestartAt)) return [];
    const root = await tasks.get(ref.path, ctx.rootId ?? ROOT_CONTAINER_ID);
    if (root?.status !== 'running') {
      // The workloads live in the dead root's namespaces: the cell goes down (KILL) and starts again whole.
      await lifecycle.stop(ref, { scope, locked: true, stop: KILL });
      await lifecycle.start(ref, { scope, locked: true });
      return [`started: its root ${root ? 'had exited' : 'had no task'}`];
    }
    const missing: string[] = [];
    for (const c of ctx.containers) {
      const id = c.metadata.name;
      const st = statuses[id] ?? {};
      if (id === ctx.rootId || ENDED.has(st.state)) continue;
      if (!(await tasks.get(ref.path, id))) missing.push(id);
    }
    if (missing.length === 0) return [];
    await lifecycle.start(ref, { scope, locked: true });
    return missing.map((id) => `started container ${id}: it had no task`);
  });
}
