// The host's own taps that make a cell's start and stop exactly its steps, in order, and run the Container-kind
// hooks inside startWorkloads and stopWorkloads. Status is persisted after every step, failures included.
// Failpoint `cell.after.<step>` fires once a step finished and its status was written (crash tests kill there).

import { CELL_START_STEPS, CELL_STOP_STEPS, KukeonError, failpoint } from '../../../sdk';
import type { CellContext, CellStep } from '../../../sdk';
import type { HostHooks } from '../hooks';
import type { Lifecycle } from './lifecycle';

const TAP = 'kukeon:cell-steps';

export function tapCellSteps(hooks: HostHooks, lifecycle: Lifecycle): void {
  const step = async (name: CellStep, ctx: CellContext) => {
    try {
      await hooks.cell[name].promise(ctx);
    } finally {
      await lifecycle.persistCell(ctx);
    }
    failpoint(`cell.after.${name}`);
  };

  hooks.start.for('Cell').tapPromise(TAP, async (c) => {
    const ctx = c as CellContext;
    for (const name of CELL_START_STEPS) await step(name, ctx);
  });

  hooks.stop.for('Cell').tapPromise(TAP, async (c) => {
    const ctx = c as CellContext;
    const errors: string[] = [];
    for (const name of CELL_STOP_STEPS) {
      try {
        await step(name, ctx);
      } catch (err) {
        errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    if (errors.length) throw new KukeonError('KUKEON_E_STEP', `stop failed: ${errors.join('; ')}`);
  });

  const workloads = (ctx: CellContext) => ctx.containers.filter((c) => c.metadata.name !== ctx.rootId);

  hooks.cell.startWorkloads.tapPromise('kukeon:containers', async (c) => {
    const ctx = c as CellContext;
    for (const doc of workloads(ctx)) {
      await hooks.start.for('Container').promise(lifecycle.containerContext(ctx, doc));
    }
  });

  // All workloads at once (their stops begin last first), as the kubelet stops a pod's containers: each gets
  // the grace period at the same time, so a cell stops within one grace, not one per workload that ignores SIGTERM.
  hooks.cell.stopWorkloads.tapPromise('kukeon:containers', async (c) => {
    const ctx = c as CellContext;
    const docs = workloads(ctx).reverse();
    const results = await Promise.allSettled(docs.map((doc) => hooks.stop.for('Container').promise(lifecycle.containerContext(ctx, doc))));
    const errors = results.flatMap((r, i) => (r.status === 'rejected' ? [`${docs[i].metadata.name}: ${(r.reason as Error).message}`] : []));
    if (errors.length) throw new KukeonError('KUKEON_E_STEP', `stopping workloads failed: ${errors.join('; ')}`);
  });
}
