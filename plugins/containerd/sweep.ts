// Removes what kukeon made in containerd under a path (realm, space, stack or cell), found by label, whether or
// not the YAML still knows it: tasks, containers, snapshots, leases; for a realm purge also images and the
// namespace itself, but only a namespace kukeon created (labelled) and only once it is empty.

import { LABELS, labelFilter } from './naming';
import type { CellRuntime } from './cell-runtime';
import { isNotFound } from './grpc/status-codes';

export interface SweepOptions {
  images: boolean;
  namespace: boolean;
}

export async function sweep(rt: CellRuntime, ns: string, path: readonly string[], options: SweepOptions): Promise<string[]> {
  const removed: string[] = [];
  const filter = labelFilter(path);
  let containers: Awaited<ReturnType<typeof rt.client.containers.list>>;
  try {
    containers = await rt.client.containers.list(ns, [filter]);
  } catch (err) {
    if (isNotFound(err)) return removed; // no such namespace: nothing to sweep
    throw rt.explain(err);
  }
  for (const c of containers) {
    await rt.removeContainer(ns, c.id);
    removed.push(`container ${c.id}`);
  }
  const snapshotter = rt.snapshotter;
  for (const s of await rt.client.snapshots.list(ns, snapshotter, [filter]).catch(() => [])) {
    await rt.client.snapshots.remove(ns, snapshotter, s.name).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
    removed.push(`snapshot ${s.name}`);
  }
  for (const l of await rt.client.leases.list(ns, [filter]).catch(() => [])) {
    await rt.client.leases.delete(ns, l.id).catch(() => undefined);
    removed.push(`lease ${l.id}`);
  }
  if (options.images) {
    for (const i of await rt.client.images.list(ns, [`labels."${LABELS.realm}"==${path[0]}`])) {
      await rt.client.images.delete(ns, i.name, true).catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
      removed.push(`image ${i.name}`);
    }
    rt.forgetImages(ns);
  }
  if (options.namespace) {
    try {
      const n = await rt.client.namespaces.get(ns);
      if (n.labels?.[LABELS.managed] === 'true') {
        // Fails while anything (other software's objects included) is left in it: then it stays.
        await rt.client.namespaces.delete(ns).then(
          () => removed.push(`namespace ${ns}`),
          () => undefined,
        );
      }
    } catch (err) {
      if (!isNotFound(err)) throw rt.explain(err);
    }
  }
  return removed;
}
