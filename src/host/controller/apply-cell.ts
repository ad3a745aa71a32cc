// Apply of a cell that already exists: containers that were removed are removed, containers whose spec changed
// are recreated, new ones are added (each started when the cell runs), and the others are left running. A
// container whose `resources` alone changed keeps running: the update taps apply its new limits in place.
// A change of the root container, or of which container is root, recreates them all.

import { KukeonError } from '../../../sdk';
import type { CellDoc, ContainerDoc, ContainerSpec } from '../../../sdk';
import type { HostOperationScope } from '../operation-scope';
import { containerDoc, rootIdOf, splitCell } from './cell-documents';
import { changedFields, sameSpec } from './diff';
import { type Lifecycle, RUNNING_STATES } from './lifecycle';

export interface CellChange {
  action: 'updated' | 'unchanged';
  changes: string[];
}

function ownSpec(cell: CellDoc): Record<string, unknown> {
  const { containers: _c, ...own } = cell.spec;
  return own;
}

/** Whether two specs of a container differ in their `resources` only. */
function onlyResources(a: ContainerSpec, b: ContainerSpec): boolean {
  return sameSpec({ ...a, resources: undefined }, { ...b, resources: undefined });
}

export async function applyExistingCell(
  lifecycle: Lifecycle,
  desired: CellDoc,
  scope: HostOperationScope,
  /** The caller holds the cell's lock already (it decided under it that the cell exists). */
  locked = false,
  /** `startAdded: false` (a `create` of a container): new containers are made but not started, even in a running cell. */
  { startAdded = true }: { startAdded?: boolean } = {},
): Promise<CellChange> {
  const ref = { kind: 'Cell' as const, path: [desired.spec.realmId, desired.spec.spaceId, desired.spec.stackId, desired.metadata.name] };
  const underLock = (fn: () => Promise<CellChange>) => (locked ? fn() : lifecycle.withLock(ref, scope, fn));
  return underLock(async () => {
    const ctx = await lifecycle.cellContext(ref, 'create', { scope });
    if ((ctx.doc.spec.cgroupParent ?? '') !== (desired.spec.cgroupParent ?? '')) {
      // its cgroup and every container's are made under it: they do not move while the cell exists
      throw new KukeonError('KUKEON_E_INVALID', `${desired.metadata.name}: spec.cgroupParent cannot change; delete the cell first`, {
        field: 'spec.cgroupParent',
      });
    }
    const running = RUNNING_STATES.has(ctx.status.state);
    const changes = [
      ...changedFields('spec', ownSpec(ctx.doc), ownSpec(desired)),
      ...changedFields('metadata', ctx.doc.metadata as never, desired.metadata as never),
    ];
    const current = new Map(ctx.containers.map((c) => [c.metadata.name, c]));
    const wanted = new Map(splitCell(desired).containers.map((c) => [c.metadata.name, c]));
    const removed = [...current.values()].filter((c) => !wanted.has(c.metadata.name));
    const added = [...wanted.values()].filter((c) => !current.has(c.metadata.name));
    const differs = [...wanted.values()].filter(
      (c) => current.has(c.metadata.name) && !sameSpec(current.get(c.metadata.name)!.spec, c.spec),
    );
    const inPlace = lifecycle.canUpdateContainers();
    const resized = differs.filter((c) => inPlace && onlyResources(current.get(c.metadata.name)!.spec, c.spec));
    const changed = differs.filter((c) => !resized.includes(c));
    const rootId = rootIdOf(desired.spec);
    const rootMoved = rootId !== ctx.rootId || changed.some((c) => c.metadata.name === rootId);
    for (const c of removed) changes.push(`container ${c.metadata.name} removed`);
    for (const c of added) changes.push(`container ${c.metadata.name} added`);
    for (const c of changed) changes.push(`container ${c.metadata.name} changed`);
    for (const c of resized) changes.push(`container ${c.metadata.name} resources updated in place`);
    if (changes.length === 0) return { action: 'unchanged', changes };

    const keepStatus = (doc: ContainerDoc) => containerDoc(ctx.doc, doc.spec, current.get(doc.metadata.name)?.status);
    if (rootMoved) {
      // The root owns the namespaces: every container goes, and the cell starts again from its root.
      if (running) await lifecycle.stop(ref, { scope, locked: true });
      const stopped = await lifecycle.cellContext(ref, 'delete', { scope });
      for (const c of [...stopped.containers].reverse()) await lifecycle.removeContainer(stopped, c, false);
    } else {
      // the new limits first: a refusal (a memory limit below what the container uses) changes nothing else
      for (const c of resized) await lifecycle.updateContainer(ctx, keepStatus(c), running);
      for (const c of removed) await lifecycle.removeContainer(ctx, c, running);
      for (const c of changed) {
        await lifecycle.removeContainer(ctx, current.get(c.metadata.name)!, running);
        await lifecycle.addContainer(ctx, keepStatus(c), running);
      }
      for (const c of added) await lifecycle.addContainer(ctx, c, running && startAdded);
      await lifecycle.persistCell(ctx);
    }
    // Writes the cell's own spec and converges every create tap (they are idempotent).
    await lifecycle.create(desired, ref, { scope, locked: true });
    return { action: 'updated', changes };
  });
}
